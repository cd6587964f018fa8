#!/bin/sh
# tests/pg-port.sh - prints a free TCP port on 127.0.0.1 for a throwaway
# cluster. pg_createcluster would take the first port from 5432 up, which
# races when two test runs start at once on one machine.
exec /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
