"""Steady traffic for the example app: a few users, each taking a turn now and then.

python traffic.py http://localhost:8000 --users 20 --interval 0.5
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import urllib.request


def user(base: str, number: int, interval: float, stop: threading.Event) -> None:
    turn = 0
    while not stop.is_set():
        turn += 1
        # Conversations end now and then; the user starts a new one.
        conversation = f"user-{number}-{turn // 50}"
        request = urllib.request.Request(
            f"{base}/conversations/{conversation}/turns",
            data=json.dumps({"message": f"question {turn}"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except OSError as exc:
            print(f"user {number}: {exc}", flush=True)
        stop.wait(interval * random.uniform(0.5, 1.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", help="the app's base URL")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()
    stop = threading.Event()
    threads = [
        threading.Thread(target=user, args=(args.base.rstrip("/"), n, args.interval, stop))
        for n in range(args.users)
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
