// One Euro filter: Casiez, Roussel and Vogel, "1 Euro Filter: A Simple
// Speed-based Low-pass Filter for Noisy Input in Interactive Systems",
// CHI 2012. A first-order low-pass filter whose cutoff rises with the
// signal's speed: little jitter when the signal holds still, little lag
// when it moves. Beat's execution-time predictor runs one per function and
// worker; it is public because engines filter frame times, input and the
// like with the same thing. Pure arithmetic on the caller's struct: no
// allocation, no clock, no libm. Present even with BEAT_NO_PREDICT (which
// removes only the scheduler's predictor).
//
// For each sample x_i at time t_i (the paper's notation):
//     Te    = t_i - t_{i-1}                    sampling period (seconds)
//     alpha = 1 / (1 + tau / Te),  tau = 1 / (2 pi fc)
//     dx_i  = (x_i - xhat_{i-1}) / Te          speed, then low-passed
//     dxhat = alpha(d_cutoff) dx_i + (1 - alpha(d_cutoff)) dxhat_{i-1}
//     fc    = min_cutoff + beta |dxhat|
//     xhat  = alpha(fc) x_i + (1 - alpha(fc)) xhat_{i-1}
// The first sample is returned unchanged (xhat_1 = x_1, dxhat_1 = 0).
#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

// Complete type: put it anywhere, set it up with beat_one_euro_init. The
// fields may be read (x_prev is the current estimate once initialised) and
// tuned between samples (the predictor rescales beta); do not write the
// state fields.
typedef struct beat_one_euro {
    double min_cutoff; // Hz; cutoff at zero speed: lower = less jitter
    double beta;       // Hz per (unit/s) of speed: higher = less lag
    double d_cutoff;   // Hz; cutoff of the speed's own filter
    double x_prev;     // last output (the estimate)
    double dx_prev;    // last filtered speed, units per second
    double t_prev;     // time of the latest sample, seconds
    double dt_prev;    // last positive period, seconds; 0 until one is seen
    int initialised;   // 0 until the first finite sample
} beat_one_euro;

// Resets f with the given parameters (the paper suggests starting from
// min_cutoff 1 Hz, beta 0, d_cutoff 1 Hz, then raising beta until fast
// motion stops lagging). Negative or NaN parameters are taken as 0; with
// min_cutoff 0 and beta 0 the output stays at the first sample.
// Thread safety: one thread per filter, like every use of f.
BEAT_API void beat_one_euro_init(beat_one_euro *f, double min_cutoff, double beta, double d_cutoff);

// Filters value, sampled at t_seconds (any origin, increasing), and returns
// the estimate. The first sample is returned as is. A later sample with
// the same or an earlier timestamp (or a NaN or infinite one) is folded in
// with the previous period dt_prev and does not move the time back; before
// any period is known it is ignored (the formulas' limit as Te -> 0). A
// NaN or infinite value, or a first sample without a finite time, is
// ignored: the current estimate is returned (before the first sample, the
// value itself). Thread safety: one thread per filter.
BEAT_API double beat_one_euro_filter(beat_one_euro *f, double value, double t_seconds);

#ifdef __cplusplus
}
#endif
