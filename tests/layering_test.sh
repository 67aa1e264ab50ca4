#!/usr/bin/env bash
# Runs layering_test.py over every library source (see its docstring).
exec /usr/bin/python3 "$@"
