#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A stranger for the tcp transport's listeners (tests/integ/test_tcp_auth.sh).

Connects to HOST:PORT (retrying until --wait seconds pass), optionally from
--src ADDR[:PORT], sends either a well-formed railbench hello (the layout of
struct tcp_hello in transports/tcp.h: magic "RBH1", rank, stream, stream
count as host-order uint32, then a 32-byte job secret) with a secret it can
only guess, or random bytes, then waits for the other side to close.
Prints one line: "closed N" (N bytes received before the close), "open"
(still open after --hold seconds) or "refused" (never connected)."""
import argparse
import os
import socket
import struct
import sys
import time

HELLO_MAGIC = 0x52424831
SECRET_BYTES = 32


def hello(rank, stream, nstreams):
    return struct.pack("=IIII", HELLO_MAGIC, rank, stream, nstreams) + \
        os.urandom(SECRET_BYTES)


def connect(args):
    host, port = args.dst.rsplit(":", 1)
    deadline = time.monotonic() + args.wait
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if args.src:
            a, _, p = args.src.partition(":")
            s.bind((a, int(p or 0)))
        s.settimeout(1.0)
        try:
            s.connect((host, int(port)))
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dst", help="HOST:PORT")
    ap.add_argument("--src", default="")
    ap.add_argument("--mode", choices=("hello", "noise"), default="hello")
    ap.add_argument("--rank", type=int, default=0)
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--wait", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=20.0)
    args = ap.parse_args()
    s = connect(args)
    if s is None:
        print("refused")
        return 0
    data = hello(args.rank, 0, args.streams) if args.mode == "hello" \
        else os.urandom(args.bytes)
    try:
        s.sendall(data)
    except OSError:
        pass
    got = 0
    s.settimeout(args.hold)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
    except socket.timeout:
        print("open")
        return 0
    except OSError:
        pass
    print("closed %d" % got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
