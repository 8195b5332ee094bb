#!/usr/bin/env bash
# The inspect binary's error contract: one clear line and a non-zero exit for a bad --data_dir.
set -u
bin="$(dirname "$0")/inspect"
[[ -x "$bin" ]] || bin="common/data/inspect"
out="$("$bin" --data_dir=/nonexistent 2>&1)"; rc=$?
[[ $rc -ne 0 ]] || { echo "expected non-zero exit, got 0"; exit 1; }
[[ "$(wc -l <<<"$out")" -eq 1 ]] || { echo "expected one line, got:"; echo "$out"; exit 1; }
grep -q "^error: /nonexistent: no such directory" <<<"$out" || { echo "unexpected: $out"; exit 1; }

empty="${TEST_TMPDIR:-/tmp}/empty_dataset"; mkdir -p "$empty"
out="$("$bin" --data_dir="$empty" 2>&1)"; rc=$?
[[ $rc -ne 0 ]] && grep -q "no dataset found" <<<"$out" || { echo "empty dir: $out"; exit 1; }

out="$("$bin" --no_such_flag 2>&1)"; rc=$?
[[ $rc -ne 0 ]] || { echo "unknown flag accepted"; exit 1; }
echo "inspect CLI errors OK"
