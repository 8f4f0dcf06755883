"""Servers an operator meets in production: password-protected, TLS-only.

TLS needs a server built with it: Debian's ``redis-server`` is. Certificates are
made per run with ``cryptography`` (a dependency of the Agents SDK's MCP support):
a throwaway CA and a server certificate for 127.0.0.1.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from support import ServerProcess

PASSWORD = "correct-horse-battery-staple"


class ProtectedServer(ServerProcess):
    """A server with ``requirepass``; its admin client (used by start()) knows the password."""

    def __init__(self, binary: Path | None = None) -> None:
        super().__init__(binary, config={"requirepass": PASSWORD})

    def client(self, **options: Any) -> redis.Redis:
        options.setdefault("password", PASSWORD)
        return super().client(**options)


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A CA and a server certificate (SAN 127.0.0.1 and localhost) signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def build(subject: str, key: Any, issuer: str, signer: Any, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("oas test CA", ca_key, "oas test CA", ca_key, ca=True)
    server_cert = build("127.0.0.1", server_key, "oas test CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca.write_bytes(ca_cert.public_bytes(pem))
    paths.cert.write_bytes(server_cert.public_bytes(pem))
    paths.key.write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class TlsServer(ServerProcess):
    """A server that speaks only TLS on its port (plaintext disabled)."""

    def __init__(self, binary: Path, certificates: Certificates) -> None:
        super().__init__(binary)
        self.certificates = certificates
        self.config.update(
            {
                "port": "0",
                "tls-port": str(self.port),
                "tls-cert-file": str(certificates.cert),
                "tls-key-file": str(certificates.key),
                "tls-ca-cert-file": str(certificates.ca),
                "tls-auth-clients": "no",
            }
        )

    @property
    def url(self) -> str:
        return f"rediss://{self.host}:{self.port}/0?ssl_ca_certs={self.certificates.ca}"

    def client(self, **options: Any) -> redis.Redis:
        options.setdefault("ssl", True)
        options.setdefault("ssl_ca_certs", str(self.certificates.ca))
        return super().client(**options)
