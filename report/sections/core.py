"""Section 8: the core's kernels on one thread against the machine's ceilings.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from ..fmt import isnum, not_measured, num, pct, table


def section_core(run, plots):
    """8. The training core on one thread against the machine's measured ceilings (core.json)."""
    out = ["## 8. The core against the machine's ceiling", ""]
    presets = (run.core or {}).get("presets") or []
    peak = (run.core or {}).get("peak") or {}
    if not presets or not isnum(peak.get("fma_gflops_1t")):
        return out + [not_measured("single-thread kernel timings (core.json, written by `make bench` since "
                                   "`sphere-bench bench-core` exists)"), ""]
    p = presets[0]
    ks = [k for k in p.get("kernels", []) if isnum(k.get("seconds"))]
    derived = [[k["name"], 1 if k["bound"] == "memory" else 0, 100.0 * k["fraction"] if isnum(k.get("fraction"))
                else float("nan")] for k in ks]
    table_path = plots.derive("core.csv", ["kernel", "memory_bound", "percent_of_ceiling"], derived)
    out.append(plots.add("core.gp", "core", table=table_path, n=len(derived), preset=p["preset"],
                         peak=peak["fma_gflops_1t"], bw=peak.get("read_gbs_1t")))
    out += ["", f"*Each kernel of one training step of the `{p['preset']}` preset on one thread, at the step's "
            f"shapes (median of {p['reps']}), as a share of its ceiling: compute-bound kernels of the fp32 FMA "
            f"peak ({num(peak['fma_gflops_1t'])} GFLOP/s, {peak.get('vector_bits')}-bit vectors), memory-bound "
            f"ones of the read bandwidth ({num(peak.get('read_gbs_1t'))} GB/s), both measured by `sphere-bench "
            f"peak` in this run, on {run.machine}. A bar above 100 % is a kernel whose arrays stay in the "
            f"cache, where DRAM bandwidth is not its ceiling. Timed by `sphere-bench bench-core`; the numbers "
            f"are in `core.json`.*", ""]
    rows = []
    for k in ks:
        rows.append([f"`{k['name']}`", num(1e3 * k["seconds"]), pct(k.get("spread")), num(k.get("gflops")),
                     num(k.get("gbs")), pct(k.get("fraction")), "memory" if k["bound"] == "memory" else "compute"])
    out += [table(["kernel", "ms per call", "spread", "GFLOP/s", "GB/s", "of ceiling", "bound"], rows), ""]
    red = ("fits in the cache, so it gives no bandwidth figure" if p.get("reduce_in_cache")
           else f"reads at {pct(p.get('reduce_fraction_of_bandwidth'))} of the single-thread read bandwidth")
    out += [f"A whole step (forward, backward, AdamW) runs at {num(p.get('step_gflops'))} GFLOP/s, "
            f"{pct(p.get('step_fraction_of_peak'))} of one core's FMA peak; the matrix products at "
            f"{pct(p.get('matmul_fraction_of_peak'))}. The gradient sum of {p.get('reduce_buffers')} "
            f"gradient-sized buffers (the flat control's work per step) {red}. GB/s counts the least traffic "
            f"a kernel must move; a kernel whose arrays partly stay in cache can exceed the DRAM figure.", ""]
    return out + gemm_against_blas(run.core, p)


def gemm_against_blas(core, p):
    """The step's product shapes, our GEMM beside a BLAS's sgemm in the same run (core.json's
    gemm_shapes; runs from before bench-core timed them have none, and get no lines)."""
    shapes = p.get("gemm_shapes") or []
    if not shapes:
        return []
    blas = core.get("blas") or {}
    mm = core.get("matmul") or {}
    tile = (f"{mm.get('mr')}×{mm.get('nr')} register tile, blocks kc {mm.get('kc')}, mc {mm.get('mc')}, "
            f"nc {mm.get('nc')}" if mm else "")
    out = ["### The matrix products against a tuned BLAS", ""]
    if not blas.get("available"):
        out += [not_measured(f"a BLAS beside our GEMM ({blas.get('error') or 'no BLAS in this run'})"), ""]
    env = blas.get("env") or {}
    env_text = ", ".join(f"`{k}={v}`" for k, v in env.items() if v is not None) or "neither `OPENBLAS_CORETYPE` nor `OPENBLAS_L2_SIZE` set"
    rows = [[f"{s['product']}", s["m"], s["n"], s["k"], num(s.get("ours_gflops")), num(s.get("blas_gflops")),
             num(s.get("ratio")), num(s.get("ratio_cpu"))] for s in shapes]
    out += [table(["product", "M", "N", "K", "ours GFLOP/s", "BLAS GFLOP/s", "ours / BLAS", "(CPU time)"], rows,
                  left=1), ""]
    if blas.get("available"):
        out += [f"*Every product of one `{p['preset']}` step as C[M][N] += A·B, through the core's GEMM "
                f"({tile}) and `cblas_sgemm` of {blas.get('name')} on one thread ({blas.get('threads')} as "
                f"it reports; {env_text}), on the same operands, the two interleaved, median of {p['reps']} "
                f"each. Lowest ratio {num(p.get('gemm_min_ratio'))}, geometric mean "
                f"{num(p.get('gemm_geomean_ratio'))}, of wall-clock medians; the last column is the ratio of "
                f"the calling thread's CPU-time medians, which on a loaded machine leaves out the time either "
                f"waited for a core. The BLAS is only timed here: the trainers use the core's GEMM, whose sums "
                f"are bitwise the plain loop's.*", ""]
    return out
