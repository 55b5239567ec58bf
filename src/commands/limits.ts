/** The commands' limits, with no imports: the configuration reads them before anything heavy loads. */

/** Default of MAX_TXN_OPS: most ops, and most checks, in one transaction. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** The transaction schema's own bound, whatever MAX_TXN_OPS says: a larger array is refused before it is walked. */
export const TXN_OPS_HARD_LIMIT = 10_000;
