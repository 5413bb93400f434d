/* The koffi call floor of the benchmark: an empty C function taking one
 * string argument. bench/run.js compiles this into a temporary .so. */
int mmapobj_bench_nop(const char *key);
int mmapobj_bench_nop(const char *key) { return key != 0; }
