"""A tiny forwarding proxy on 127.0.0.1 for the proxy tests: HTTP CONNECT and SOCKS5 on one port, with an optional
user and password, optionally over TLS (a self-signed certificate made by openssl), recording every tunnel it opened.
The Bot API client reaches even an http:// server through a CONNECT tunnel, so a plain request-forwarding proxy would
never be asked."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import ssl
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SOCKS5 = 5
NO_AUTH, USER_PASSWORD, NO_METHOD = 0, 2, 0xFF
IPV4, DOMAIN, IPV6 = 1, 3, 4
NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
SUBJECT = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]


@dataclass
class TunnelProxy:
    """Listens on a free port of 127.0.0.1 (over TLS when given a `tls` context); `tunnels` lists each `host:port`
    it connected to, `refused` counts clients turned away for their credentials."""

    credentials: tuple[str, str] | None = None
    tls: ssl.SSLContext | None = None
    tunnels: list[str] = field(default_factory=list)
    refused: int = 0
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> TunnelProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def url(self, scheme: str, login: str = "") -> str:
        """The PROXY_URL that reaches this proxy, e.g. socks5://user:pw@127.0.0.1:40123."""
        return f"{scheme}://{login + '@' if login else ''}127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            first = await reader.readexactly(1)
            target = await (
                self._socks5(reader, writer) if first[0] == SOCKS5 else self._connect(first, reader, writer)
            )
            if target is not None:
                await self._tunnel(target, reader, writer)
        writer.close()

    async def _connect(self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str | None:
        """An HTTP CONNECT request: the target, or None after a 407 for wrong credentials."""
        head = (first + await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ")
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        expected = None if self.credentials is None else ":".join(self.credentials)
        given = headers.get("Proxy-Authorization", "").removeprefix("Basic ")
        if method != "CONNECT" or (expected and base64.b64decode(given or "").decode() != expected):
            self.refused += 1
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            return None
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        return target

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str | None:
        """A SOCKS5 greeting, login and CONNECT request (RFC 1928, 1929): the target, or None when refused."""
        methods = await reader.readexactly((await reader.readexactly(1))[0])
        wanted = NO_AUTH if self.credentials is None else USER_PASSWORD
        if wanted not in methods:
            writer.write(bytes([SOCKS5, NO_METHOD]))
            return None
        writer.write(bytes([SOCKS5, wanted]))
        if wanted == USER_PASSWORD:
            await reader.readexactly(1)
            user = await reader.readexactly((await reader.readexactly(1))[0])
            password = await reader.readexactly((await reader.readexactly(1))[0])
            accepted = (user.decode(), password.decode()) == self.credentials
            writer.write(bytes([1, 0 if accepted else 1]))
            if not accepted:
                self.refused += 1
                return None
        _, _, _, kind = await reader.readexactly(4)
        if kind == DOMAIN:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            host = str(ipaddress.ip_address(await reader.readexactly(4 if kind == IPV4 else 16)))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        writer.write(bytes([SOCKS5, 0, 0, IPV4, 0, 0, 0, 0, 0, 0]))
        return f"{host}:{port}"

    async def _tunnel(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Pass bytes both ways between the client and `target` until either side closes."""
        host, port = target.rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        self.tunnels.append(target)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate, and the certificate's file (what a
    client must trust)."""
    certificate, key = folder / "proxy.crt", folder / "proxy.key"
    command = ["openssl", "req", "-x509", *NEW_KEY, *SUBJECT, "-keyout", str(key), "-out", str(certificate)]
    subprocess.run(command, check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context, certificate
