/* The arithmetic peak of this processor's cores: how many FLOP/s its vector units can do at most.
 *
 * Each thread (OpenMP: one per core by default) runs independent multiply-adds and nothing else, so no memory,
 * no dependency between instructions and no other work limits them: no program can multiply faster.
 * float32: fused multiply-adds, AVX-512 (16 lanes x 2 FLOP per instruction) or else AVX2 (8 lanes x 2).
 * bfloat16: AVX-512 BF16 dot products (vdpbf16ps: 16 lanes x 2 products x 2 FLOP per instruction), what oneDNN's
 * bfloat16 convolutions run on. int8: AVX-512 VNNI dot products (vpdpbusd: 16 lanes x 4 products x 2 operations),
 * what int8 (quantized) convolutions run on; counted like FLOPs, as GOP/s. Prints one JSON line in GFLOP/s, null
 * where the processor lacks the instructions.
 * `benchmarks/floor.py` compiles and runs it:
 *
 *     cc -O2 -march=native -fopenmp benchmarks/peak.c -o peak && ./peak
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>

#define CHAINS 12 /* independent accumulators: more than the instruction's latency x throughput */
#define ROUNDS 100000000L

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define ZERO _mm512_setzero_ps
#define SET1 _mm512_set1_ps
#define FMA(acc, a, b) _mm512_fmadd_ps(a, b, acc)
#define STORE _mm512_storeu_ps
#elif defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define ZERO _mm256_setzero_ps
#define SET1 _mm256_set1_ps
#define FMA(acc, a, b) _mm256_fmadd_ps(a, b, acc)
#define STORE _mm256_storeu_ps
#endif

/* ROUNDS x CHAINS independent instructions `acc[i] = op` (op reads acc[i], a and b) */
#define RUN_CHAINS(op)                                                                                             \
    for (long r = 0; r < ROUNDS; r++) {                                                                            \
        _Pragma("GCC unroll 12") for (int i = 0; i < CHAINS; i++) acc[i] = op;                                    \
        __asm__ volatile("" : "+x"(a)); /* a may have changed: the compiler cannot fold the loop away */          \
    }

#if defined(LANES)
/* GFLOP/s of `seconds` spent on ROUNDS x CHAINS instructions of `flop` FLOP on every thread; `sink` is their
 * results' sum, which the answer depends on, so that the compiler keeps the work that made it */
static double gflops(double seconds, double sink, int flop) {
    return sink == 0.5 ? 0 : (double)ROUNDS * CHAINS * flop * omp_get_max_threads() / seconds / 1e9;
}

static double sum(vec v) {
    float out[LANES];
    double total = 0;
    STORE(out, v);
    for (int k = 0; k < LANES; k++) total += out[k];
    return total;
}

static double float32_gflops(void) {
    double start = omp_get_wtime(), sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
        vec acc[CHAINS], a = SET1(1.0001f), b = SET1(0.9999f);
        for (int i = 0; i < CHAINS; i++) acc[i] = ZERO();
        RUN_CHAINS(FMA(acc[i], a, b))
        for (int i = 0; i < CHAINS; i++) sink += sum(acc[i]);
    }
    return gflops(omp_get_wtime() - start, sink, LANES * 2);
}

static double best_of_3(double (*run)(void)) {
    double best = 0;
    for (int k = 0; k < 3; k++) {
        double g = run();
        best = g > best ? g : best;
    }
    return best;
}
#endif

#if defined(__AVX512BF16__)
static double bfloat16_gflops(void) {
    double start = omp_get_wtime(), sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
        vec acc[CHAINS];
        __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3c00); /* 1, 2^-7 */
        for (int i = 0; i < CHAINS; i++) acc[i] = ZERO();
        RUN_CHAINS(_mm512_dpbf16_ps(acc[i], a, b))
        for (int i = 0; i < CHAINS; i++) sink += sum(acc[i]);
    }
    return gflops(omp_get_wtime() - start, sink, LANES * 4);
}
#endif

#if defined(__AVX512VNNI__)
static double int8_gops(void) {
    double start = omp_get_wtime(), sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
        __m512i acc[CHAINS], a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_setzero_si512();
        RUN_CHAINS(_mm512_dpbusd_epi32(acc[i], a, b))
        int out[LANES];
        for (int i = 0; i < CHAINS; i++) {
            _mm512_storeu_si512(out, acc[i]);
            for (int k = 0; k < LANES; k++) sink += out[k]; /* 4 x ROUNDS each: an int32 holds it */
        }
    }
    return gflops(omp_get_wtime() - start, sink, LANES * 8);
}
#endif

int main(void) {
    printf("{\"threads\": %d, \"float32\": ", omp_get_max_threads());
#if defined(LANES)
    printf("%.1f", best_of_3(float32_gflops));
#else
    printf("null");
#endif
    printf(", \"bfloat16\": ");
#if defined(__AVX512BF16__)
    printf("%.1f", best_of_3(bfloat16_gflops));
#else
    printf("null");
#endif
    printf(", \"int8\": ");
#if defined(__AVX512VNNI__)
    printf("%.1f", best_of_3(int8_gops));
#else
    printf("null");
#endif
    printf("}\n");
    return 0;
}
