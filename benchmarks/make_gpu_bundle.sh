#!/usr/bin/env bash
# make_gpu_bundle.sh OUT.tar.gz BINARY... : packs the binaries with the shared libraries they
# load that are not part of a bare Linux + NVIDIA driver install (libbenchmark, libstdc++, ...)
# into lib/ (the binaries carry rpath $ORIGIN/lib), plus run_all.sh. Used by //benchmarks:gpu_bundle.
set -euo pipefail
out=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/gpu_bundle/lib"
# What any glibc system (and the driver) provides; everything else travels.
system='^(linux-vdso|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|ld-linux|libcuda\.so)'
for bin in "$@"; do
  cp -L "$bin" "$dir/gpu_bundle/"
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
    if ! [[ $name =~ $system ]]; then cp -L "$path" "$dir/gpu_bundle/lib/$name"; fi
  done
done
cat >"$dir/gpu_bundle/run_all.sh" <<'SCRIPT'
#!/usr/bin/env bash
# Runs every GPU test, then every benchmark (JSON next to the console output in results/).
cd "$(dirname "$0")"
mkdir -p results
status=0
for t in ./*_test; do "$t" || status=1; done
for b in ./*_bench; do
  "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
       --benchmark_out="results/$(basename "$b").json" --benchmark_out_format=json "$@" || status=1
done
exit $status
SCRIPT
chmod +x "$dir/gpu_bundle/run_all.sh"
tar -C "$dir" -czf "$out" gpu_bundle
