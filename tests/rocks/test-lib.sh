# A small shell test library for the Rocks 6.2 test scripts ported to cairn
# (tests/rocks/t*.sh): the functions those scripts call, written for cairn.
# Each script runs in a scratch directory with `cairn` on PATH and
# CAIRN_DB_URL naming a fresh database (tests/rocks/test_rocks_scripts.py).

test_count=0
test_failed=0

say() { printf '%s\n' "$*"; }

# test_expect_success DESCRIPTION BODY: BODY is shell run with `eval`; it passes
# when it exits 0. Its output goes to stdout, so a failure shows what happened.
test_expect_success() {
	test_count=$((test_count + 1))
	say "--- $test_count: $1"
	if (eval "$2"); then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1"
	fi
}

# test_expect_failure-like check that a command fails (exit status not 0).
test_must_fail() {
	if "$@"; then
		say "expected a failure: $*"
		return 1
	fi
	return 0
}

# test_line_count OP N FILE: the number of lines of FILE compared with N.
test_line_count() {
	if [ $# != 3 ]; then
		say "usage: test_line_count OP N FILE"
		return 1
	fi
	actual=$(wc -l <"$3")
	if ! test "$actual" "$1" "$2"; then
		say "test_line_count: $3 has $actual lines, expected $1 $2:"
		cat "$3"
		return 1
	fi
}

# test_done: the closing line ('N passed, N failed') and the exit status.
test_done() {
	if [ -n "${skip_all:-}" ]; then
		say "skipped: $skip_all"
		exit 0
	fi
	say "$((test_count - test_failed)) passed, $test_failed failed"
	[ "$test_failed" = 0 ]
	exit $?
}
