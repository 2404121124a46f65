"""WebSocket upgrades: the bearer token carried, as Kubernetes accepts it, in
the Sec-WebSocket-Protocol entry base64url.bearer.authorization.k8s.io.<token
in unpadded base64url>. A real RFC 6455 handshake through httpd (mod_proxy_http
with upgrade=websocket) to a raw-socket WebSocket backend that answers with
one text frame holding the request headers it received, then closes.

The entry is a credential only on an upgrade without an Authorization
header; it is always removed before the backend sees the request (other
subprotocols stay); a malformed entry, or two, is a 400 invalid_request."""

import base64
import hashlib
import json
import os
import socket
import threading

import pytest
import requests

from helpers import (REALM, bearer, echo_headers, header_values, location,
                     parse_challenge)

PREFIX = "base64url.bearer.authorization.k8s.io."
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def b64url(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


def entry(token):
    return PREFIX + b64url(token)


def ws_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


# --------------------------------------------------------------------------
# Raw-socket HTTP/WebSocket pieces shared by the backend and the client


def read_head(sock, buf=b""):
    """Reads up to the end of an HTTP head: (head bytes, the bytes after it)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed in the HTTP head: %r" % buf[:500])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def parse_head(head):
    """(first line, [(name, value)]) of an HTTP head."""
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name.strip(), value.strip()))
    return lines[0], fields


def values(fields, name):
    return [v for k, v in fields if k.lower() == name.lower()]


def recv_exact(sock, n, buf):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed in a frame")
        buf += chunk
    return buf[:n], buf[n:]


def read_frame(sock, buf):
    """One WebSocket frame: (fin, opcode, masked, payload, rest of buf)."""
    hdr, buf = recv_exact(sock, 2, buf)
    fin, opcode = hdr[0] >> 7, hdr[0] & 0x0F
    masked, n = hdr[1] >> 7, hdr[1] & 0x7F
    if n == 126:
        ext, buf = recv_exact(sock, 2, buf)
        n = int.from_bytes(ext, "big")
    elif n == 127:
        ext, buf = recv_exact(sock, 8, buf)
        n = int.from_bytes(ext, "big")
    mask = b""
    if masked:
        mask, buf = recv_exact(sock, 4, buf)
    payload, buf = recv_exact(sock, n, buf)
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return fin, opcode, masked, payload, buf


def frame(opcode, payload, mask=False):
    """One final frame; masked as a client must, unmasked as a server must."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


# --------------------------------------------------------------------------
# The WebSocket backend


class WebSocketBackend:
    """Accepts connections on 127.0.0.1; for a WebSocket upgrade completes
    the handshake (Sec-WebSocket-Accept, the first offered subprotocol),
    sends one text frame with JSON {"request": line, "headers": [[k, v]...]}
    and closes (close frame 1000). Anything else gets a 400. Every request
    head is kept in .requests."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.requests = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def reset(self):
        with self.lock:
            self.requests = []

    @property
    def count(self):
        with self.lock:
            return len(self.requests)

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(20)
        try:
            head, rest = read_head(conn)
            line, fields = parse_head(head)
            with self.lock:
                self.requests.append({"request": line, "headers": fields})
            upgrade = ",".join(values(fields, "Upgrade")).lower()
            keys = values(fields, "Sec-WebSocket-Key")
            if "websocket" not in upgrade or len(keys) != 1:
                body = b"not a websocket upgrade\n"
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                             + body)
                return
            offered = [p.strip() for v in values(fields, "Sec-WebSocket-Protocol")
                       for p in v.split(",") if p.strip()]
            resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n" % ws_accept(keys[0]))
            if offered:
                resp += "Sec-WebSocket-Protocol: %s\r\n" % offered[0]
            conn.sendall((resp + "\r\n").encode("latin-1"))
            msg = json.dumps({"request": line, "headers": [[k, v] for k, v in fields]})
            conn.sendall(frame(0x1, msg.encode()))
            conn.sendall(frame(0x8, (1000).to_bytes(2, "big")))
            # wait for the client's close frame, then end the TCP connection
            try:
                while True:
                    _, opcode, _, _, rest = read_frame(conn, rest)
                    if opcode == 0x8:
                        break
            except (OSError, ConnectionError):
                pass
        except (OSError, ConnectionError):
            pass
        finally:
            conn.close()

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# --------------------------------------------------------------------------
# The client


class Answer:
    def __init__(self, status, fields, body=b"", message=None, server_frames=None):
        self.status = status
        self.fields = fields
        self.body = body
        self.message = message                # JSON of the backend's text frame
        self.server_frames = server_frames or []

    def header(self, name):
        return values(self.fields, name)

    @property
    def backend_headers(self):
        assert self.message is not None, (self.status, self.fields, self.body[:300])
        return self.message["headers"]

    def challenge(self):
        found = self.header("WWW-Authenticate")
        assert len(found) == 1, "WWW-Authenticate fields: %r" % found
        return parse_challenge(found[0])


def ws_request(srv, path, headers=(), upgrade=True):
    """A GET on a fresh connection: with upgrade, a complete RFC 6455 opening
    handshake (the key's Sec-WebSocket-Accept is checked on 101), then the
    backend's text frame and the closing handshake. headers: (name, value)
    pairs sent as they are."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % srv.port]
    if upgrade:
        lines += ["Upgrade: websocket", "Connection: Upgrade",
                  "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    else:
        lines += ["Connection: close"]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head, rest = read_head(sock)
        line, fields = parse_head(head)
        status = int(line.split()[1])
        if status != 101:
            n = values(fields, "Content-Length")
            if n:
                body, _ = recv_exact(sock, int(n[0]), rest)
            else:
                body = rest
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            return Answer(status, fields, body)
        assert values(fields, "Sec-WebSocket-Accept") == [ws_accept(key)], fields
        assert "websocket" in ",".join(values(fields, "Upgrade")).lower(), fields
        frames = []
        message = None
        while True:
            fin, opcode, masked, payload, rest = read_frame(sock, rest)
            assert not masked, "the server masked a frame"
            frames.append((opcode, payload))
            if opcode == 0x1:
                assert fin
                message = json.loads(payload)
            elif opcode == 0x8:
                sock.sendall(frame(0x8, payload[:2], mask=True))
                break
        return Answer(status, fields, message=message, server_frames=frames)
    finally:
        sock.close()


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def wsb():
    b = WebSocketBackend()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def srv(harness, wsb):
    conf = "".join([
        location("/ws/", "Require valid-user",
                 extra="ProxyPass ws://127.0.0.1:%d/ upgrade=websocket" % wsb.port),
        location("/plain/", "Require valid-user", backend=harness.echo.url + "/plain/"),
    ])
    with harness.httpd(conf) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset_backend(wsb):
    wsb.reset()
    yield


def no_trace_of(token, fields, where):
    """No header name or value holds the token, its encoding or the prefix."""
    for k, v in fields:
        for needle in (token, b64url(token), PREFIX.rstrip(".")):
            assert needle not in k and needle not in v, "%s: %s: %s" % (where, k, v)


def assert_identity(fields, api, tok):
    u = api.user_of(tok)
    assert header_values(fields, "X-Remote-User") == [u["username"]]
    assert header_values(fields, "X-Remote-Group") == u["groups"]


# --------------------------------------------------------------------------
# The token in the subprotocol entry


def test_entry_token_upgrades_and_never_reaches_backend(srv, api, wsb):
    tok = api.sa_token("team-a", "ws-client")
    a = ws_request(srv, "/ws/stream", [("Sec-WebSocket-Protocol", entry(tok) + ", chat.v1")])
    assert a.status == 101, (a.status, a.fields, a.body[:300])
    # the backend chose the first protocol it was offered: chat.v1, and the
    # client sees that choice
    assert a.header("Sec-WebSocket-Protocol") == ["chat.v1"]
    hs = a.backend_headers
    assert header_values(hs, "Sec-WebSocket-Protocol") == ["chat.v1"]
    assert header_values(hs, "Authorization") == []
    no_trace_of(tok, hs, "backend")
    assert tok not in a.message["request"] and b64url(tok) not in a.message["request"]
    assert_identity(hs, api, tok)
    assert header_values(hs, "X-Remote-User") == ["system:serviceaccount:team-a:ws-client"]
    assert a.server_frames[-1] == (0x8, (1000).to_bytes(2, "big"))
    assert api.reviews_of(tok) == 1
    # the review is cached as for an Authorization header
    a2 = ws_request(srv, "/ws/again", [("Sec-WebSocket-Protocol", "chat.v1, " + entry(tok))])
    assert a2.status == 101
    assert header_values(a2.backend_headers, "Sec-WebSocket-Protocol") == ["chat.v1"]
    assert_identity(a2.backend_headers, api, tok)
    assert api.reviews_of(tok) == 1
    assert wsb.count == 2


def test_entry_among_several_protocols(srv, api):
    tok = api.user_token("alice", groups=["devs"])
    a = ws_request(srv, "/ws/", [("Sec-WebSocket-Protocol",
                                  "v4.channel.k8s.io,\t" + entry(tok) + " , base64.channel.k8s.io")])
    assert a.status == 101, (a.status, a.body[:300])
    assert a.header("Sec-WebSocket-Protocol") == ["v4.channel.k8s.io"]
    hs = a.backend_headers
    assert header_values(hs, "Sec-WebSocket-Protocol") == [
        "v4.channel.k8s.io, base64.channel.k8s.io"]
    no_trace_of(tok, hs, "backend")
    assert header_values(hs, "X-Remote-User") == ["alice"]
    assert header_values(hs, "X-Remote-Group") == ["devs"]


def test_only_the_entry_leaves_no_protocol_header(srv, api):
    tok = api.sa_token("team-b", "solo")
    a = ws_request(srv, "/ws/", [("Sec-WebSocket-Protocol", entry(tok))])
    assert a.status == 101, (a.status, a.body[:300])
    assert a.header("Sec-WebSocket-Protocol") == []
    hs = a.backend_headers
    assert header_values(hs, "Sec-WebSocket-Protocol") == []
    no_trace_of(tok, hs, "backend")
    assert_identity(hs, api, tok)


# --------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize("value", [
    PREFIX,                                      # empty payload
    PREFIX + "YWJjZA==",                         # padded
    PREFIX + "fn5+",                             # standard alphabet
    PREFIX + "YWJjZ",                            # impossible length
    "chat.v1, " + PREFIX + b64url("abc def"),    # decodes, but not a b64token
    PREFIX + b64url("x" * 16385),                # over the 16 KiB limit
], ids=["empty", "padded", "plus", "length", "not-b64token", "too-long"])
def test_malformed_entry_is_400(srv, api, wsb, value):
    a = ws_request(srv, "/ws/", [("Sec-WebSocket-Protocol", value)])
    assert a.status == 400, (a.status, a.fields)
    assert a.challenge() == ("bearer", {"realm": REALM, "error": "invalid_request"})
    assert api.reviews == 0
    assert wsb.count == 0


def test_two_entries_are_400(srv, api, wsb):
    t1 = api.sa_token("team-a", "one")
    t2 = api.sa_token("team-a", "two")
    for value in (entry(t1) + ", " + entry(t2), entry(t1) + ", chat.v1, " + entry(t1)):
        a = ws_request(srv, "/ws/", [("Sec-WebSocket-Protocol", value)])
        assert a.status == 400, (value, a.status)
        assert a.challenge() == ("bearer", {"realm": REALM, "error": "invalid_request"})
    assert api.reviews == 0
    assert wsb.count == 0


def test_malformed_entry_is_400_even_with_authorization(srv, api, wsb):
    """The entry is checked whatever carries the credential."""
    tok = api.sa_token("team-a", "auth")
    a = ws_request(srv, "/ws/", [("Authorization", "Bearer " + tok),
                                 ("Sec-WebSocket-Protocol", PREFIX + "YWJjZA==, chat.v1")])
    assert a.status == 400
    assert a.challenge() == ("bearer", {"realm": REALM, "error": "invalid_request"})
    assert wsb.count == 0


def test_invalid_token_in_entry_is_401(srv, api, wsb):
    bogus = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJub2JvZHkifQ.c2ln"
    a = ws_request(srv, "/ws/", [("Sec-WebSocket-Protocol", entry(bogus) + ", chat.v1")])
    assert a.status == 401, (a.status, a.fields)
    assert a.challenge() == ("bearer", {"realm": REALM, "error": "invalid_token"})
    assert api.reviews_of(bogus) == 1
    assert wsb.count == 0


def test_upgrade_without_any_credential_is_401(srv, api, wsb):
    a = ws_request(srv, "/ws/", [("Sec-WebSocket-Protocol", "chat.v1")])
    assert a.status == 401
    assert a.challenge() == ("bearer", {"realm": REALM})
    assert api.reviews == 0
    assert wsb.count == 0


# --------------------------------------------------------------------------
# Not an upgrade: the entry is no credential, but it is still stripped


def test_entry_is_no_credential_without_upgrade(srv, api, harness):
    tok = api.sa_token("team-a", "plain")
    for path in ("/plain/x", "/ws/x"):
        a = ws_request(srv, path, [("Sec-WebSocket-Protocol", entry(tok) + ", chat.v1")],
                       upgrade=False)
        assert a.status == 401, (path, a.status, a.body[:300])
        assert a.challenge() == ("bearer", {"realm": REALM})
    # nor with an Upgrade other than websocket
    a = ws_request(srv, "/plain/x", [("Upgrade", "h2c"), ("Connection", "Upgrade"),
                                     ("Sec-WebSocket-Protocol", entry(tok))], upgrade=False)
    assert a.status == 401, (a.status, a.body[:300])
    assert api.reviews_of(tok) == 0
    assert harness.echo.count == 0


def test_entry_stripped_without_upgrade(srv, api, harness):
    tok = api.sa_token("team-a", "http")
    other = api.sa_token("team-z", "in-entry")
    r = requests.get(srv.url("/plain/x"), timeout=30, headers=dict(
        bearer(tok), **{"Sec-WebSocket-Protocol": "chat.v1, " + entry(other) + ", superchat"}))
    hs = echo_headers(r)
    assert header_values(hs, "Sec-WebSocket-Protocol") == ["chat.v1, superchat"]
    no_trace_of(other, hs, "echo")
    assert_identity(hs, api, tok)
    r = requests.get(srv.url("/plain/y"), timeout=30, headers=dict(
        bearer(tok), **{"Sec-WebSocket-Protocol": entry(other)}))
    hs = echo_headers(r)
    assert header_values(hs, "Sec-WebSocket-Protocol") == []
    no_trace_of(other, hs, "echo")
    assert_identity(hs, api, tok)
    assert api.reviews_of(other) == 0


# --------------------------------------------------------------------------
# Authorization and the entry together


def test_authorization_wins_over_entry(srv, api, wsb):
    tok = api.sa_token("team-a", "header")
    other = api.sa_token("team-z", "entry")
    a = ws_request(srv, "/ws/", [("Authorization", "Bearer " + tok),
                                 ("Sec-WebSocket-Protocol", entry(other) + ", chat.v1")])
    assert a.status == 101, (a.status, a.body[:300])
    hs = a.backend_headers
    assert_identity(hs, api, tok)
    assert header_values(hs, "X-Remote-User") == ["system:serviceaccount:team-a:header"]
    assert header_values(hs, "Sec-WebSocket-Protocol") == ["chat.v1"]
    no_trace_of(other, hs, "backend")
    assert api.reviews_of(tok) == 1
    assert api.reviews_of(other) == 0


def test_invalid_authorization_is_not_rescued_by_entry(srv, api, wsb):
    good = api.sa_token("team-a", "good")
    a = ws_request(srv, "/ws/", [("Authorization", "Bearer not-a-known-token"),
                                 ("Sec-WebSocket-Protocol", entry(good))])
    assert a.status == 401
    assert a.challenge() == ("bearer", {"realm": REALM, "error": "invalid_token"})
    assert api.reviews_of(good) == 0
    assert wsb.count == 0


def test_other_authorization_scheme_blocks_entry(srv, api, wsb):
    """Only without any Authorization header is the entry the credential."""
    good = api.sa_token("team-a", "good")
    a = ws_request(srv, "/ws/", [("Authorization", "Basic dXNlcjpwYXNz"),
                                 ("Sec-WebSocket-Protocol", entry(good))])
    assert a.status == 401
    assert a.challenge() == ("bearer", {"realm": REALM})
    assert api.reviews_of(good) == 0
    assert wsb.count == 0


# --------------------------------------------------------------------------
# d8c4963 wrote past a heap buffer here, before any token was looked at:
# every bare comma of the other protocols grows by a byte when joined with
# ", ". The suite's sanitizer run (a module built with ASan) sees the overrun.


@pytest.mark.parametrize("fields", [1, 90], ids=["one-8k-field", "90-merged-fields"])
def test_bare_comma_protocol_lists(srv, api, fields):
    per_field = 8192 // fields    # (httpd allows 100 header fields)
    value = ",".join(["a"] * (per_field // 2))
    headers = [("Sec-WebSocket-Protocol", value)] * fields
    mark = srv.log_mark()
    # no token at all: the list is still parsed
    a = ws_request(srv, "/ws/", headers)
    assert a.status == 401
    # with an entry: the backend gets the other protocols, joined by ", "
    tok = api.user_token("alice")
    a = ws_request(srv, "/ws/", headers + [("Sec-WebSocket-Protocol", entry(tok))])
    assert a.status == 101, (a.status, a.body[:300])
    merged = ", ".join(["a"] * ((per_field // 2) * fields))
    assert header_values(a.backend_headers, "Sec-WebSocket-Protocol") == [merged]
    assert not [l for l in srv.new_log_lines(mark) if "exit signal" in l]
