/**
 * The even number at or below `n` (at least 2): H.264 in 4:2:0 needs even dimensions, and
 * rounding down means a scaled picture is never larger than its source, even by a pixel.
 */
export const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
