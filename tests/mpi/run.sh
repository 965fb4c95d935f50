#!/usr/bin/env bash
# The hybrid MPI example (examples/mpi_hybrid.c) on 2 ranks on this machine:
# built through examples/Makefile with mpicc, run with mpirun, its output
# checked (both ranks report their share on a 2-worker pool; the total equals
# the closed form, computed here independently). Skips, with a message and
# exit 0, when Open MPI (mpicc, mpirun) is not installed.
#
# mpirun settings for a container without network (each can be overridden
# from the environment): shared-memory transport between the ranks
# (btl self,vader, without the single-copy mechanism, which needs ptrace
# rights containers often lack), the ob1 messaging layer (no UCX probing), and
# the launcher's own connections on the loopback interface. As root (CI) it
# passes --allow-run-as-root; --oversubscribe and --bind-to none let 2 ranks
# run on any number of CPUs. The last line is "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for tool in mpicc mpirun; do
    if ! command -v "$tool" >/dev/null; then
        echo "skipped: $tool not found; install Open MPI to run this suite" \
            "(Debian: apt-get install libopenmpi-dev openmpi-bin)"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
done
passed=0
failed=0
pass() {
    echo "ok   $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $1"
    failed=$((failed + 1))
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

program="$root/build/examples/mpi_hybrid"
if log=$(make -C "$root/examples" ../build/examples/mpi_hybrid 2>&1); then
    pass "mpi_hybrid builds with mpicc (examples/Makefile)"
else
    fail "mpi_hybrid builds with mpicc (examples/Makefile)"
    echo "$log" | tail -20 | sed 's/^/     /'
    finish
fi

export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
export OMPI_MCA_oob_tcp_if_include=${OMPI_MCA_oob_tcp_if_include:-lo}
as_root=()
[ "$(id -u)" != 0 ] || as_root=(--allow-run-as-root)
n=1000000
workers=2
expected=$((n * (n - 1) * (2 * n - 1) / 6))
name="2 ranks x $workers workers: sum of i*i over [0, $n) = $expected"
out=$(timeout 300 mpirun "${as_root[@]}" --oversubscribe --bind-to none -np 2 \
    "$program" "$n" "$workers" 2>&1)
rc=$?
mapfile -t lines <<<"$out"
printf '     %s\n' "${lines[@]}"
total="sum of i*i over [0, $n) on 2 ranks = $expected (closed form $expected): ok"
if [ "$rc" = 0 ] &&
    echo "$out" | grep -q "^rank 0/2: \[0, $((n / 2))) on $workers workers: partial " &&
    echo "$out" | grep -q "^rank 1/2: \[$((n / 2)), $n) on $workers workers: partial " &&
    echo "$out" | grep -qxF "$total"; then
    pass "$name"
else
    fail "$name (mpirun exit $rc; expected a line per rank and: $total)"
fi
finish
