-- Generated from include/imbill.h by scripts/gen-cdef.lua (make cdef): do not edit.
-- The C declarations the FFI bindings use, loaded once per Lua state.
local ffi = require "ffi"
ffi.cdef [==[

/* ---- status -------------------------------------------------------------- */

typedef enum imb_status {
  IMB_OK = 0,
  IMB_ESYNTAX,    /* text does not follow the grammar (money, date, month) */
  IMB_ERANGE,     /* a value is outside its domain (negative count, month 13) */
  IMB_EOVERFLOW,  /* the result does not fit in 64 bits */
  IMB_ESCALE,     /* more decimal places than the fixed scale holds */
  IMB_ENOMEM,
  IMB_EIO,
  IMB_ECORRUPT,   /* a saved file failed its checks */
  IMB_ESTATE,     /* the call is not allowed in the object's current state */
  IMB_ESTOPPED,   /* the caller's imb_stop asked a long call to stop */
  IMB_STATUS_COUNT
} imb_status;

/* A short fixed text for a status ("out of range"); bindings write the
 * messages users read. */
const char *imb_strerror(imb_status s);

/* ---- money ----------------------------------------------------------------- */

enum {
  IMB_MICROS_PER_UNIT = 1000000,
  IMB_MICROS_PER_CENT = 10000,
  IMB_MONEY_BUFSZ = 32 /* "-9223372036854.775808" and its NUL fit easily */
};

/* Parses "149.99", "-0.015", "1349": at most 6 decimals, no exponent, no
 * separators, no surrounding space. */
imb_status imb_money_parse(const char *s, size_t len, int64_t *micros);

/* Writes the decimal form of micros with at least min_places decimals (0..6),
 * more only where the value carries them: 1349910000 -> "1349.91", 15000 ->
 * "0.015".  buf holds IMB_MONEY_BUFSZ bytes.  Returns the length written. */
size_t imb_money_format(int64_t micros, int min_places, char *buf);

imb_status imb_add(int64_t a, int64_t b, int64_t *out);
imb_status imb_mul(int64_t a, int64_t b, int64_t *out);
/* round_half_up(a * b / d) for d > 0, with a 128-bit intermediate so that the
 * only rounding is the final one. */
imb_status imb_muldiv(int64_t a, int64_t b, int64_t d, int64_t *out);
/* Micro-units to whole cents, half away from zero. */
imb_status imb_round_cents(int64_t micros, int64_t *cents);

/* ---- calendar ---------------------------------------------------------------- */

enum {
  IMB_DATE_BUFSZ = 11, /* "YYYY-MM-DD" and its NUL */
  IMB_MIN_YEAR = 1,
  IMB_MAX_YEAR = 9999,
  IMB_DAY_MIN = -719162, /* 0001-01-01 */
  IMB_DAY_MAX = 2932896  /* 9999-12-31 */
};

int imb_is_leap(int32_t year);
int imb_days_in_month(int32_t year, int month);
/* Valid dates only: 2021-02-29 is IMB_ERANGE. */
imb_status imb_days_from_civil(int32_t y, int m, int d, int32_t *day);
void imb_civil_from_days(int32_t day, int32_t *y, int *m, int *d);
/* Strict "YYYY-MM-DD" and "YYYY-MM": four-digit year, two-digit month and day. */
imb_status imb_date_parse(const char *s, size_t len, int32_t *day);
imb_status imb_month_parse(const char *s, size_t len, int32_t *month);
void imb_date_format(int32_t day, char *buf);
/* The billing day of an instant: floor((t + offset) / 86400), offset in
 * seconds east of UTC with |offset| < 86400. */
imb_status imb_day_of(int64_t unix_seconds, int32_t offset, int32_t *day);
/* A fixed UTC offset as text: "Z", "UTC" or "GMT" alone, or an optional
 * "UTC"/"GMT" then a sign and hours, with minutes after an optional colon:
 * "+08:00", "-05:30", "+0800", "+8", "UTC+8".  Minutes take exactly two
 * digits (after a colon or as HHMM); a colon needs them.  Zones in use run
 * from -12:00 to +14:00: anything beyond, or minutes of 60 or more, is
 * IMB_ERANGE; anything else IMB_ESYNTAX.  *offset_seconds is east of UTC. */
enum { IMB_TZ_MIN = -12 * 3600, IMB_TZ_MAX = 14 * 3600 };
imb_status imb_tz_parse(const char *s, size_t len, int32_t *offset_seconds);
/* Whether an offset in seconds is one imb_tz_parse can give: whole minutes
 * within IMB_TZ_MIN .. IMB_TZ_MAX. */
int imb_tz_valid(int64_t offset_seconds);
int32_t imb_month_first_day(int32_t month);
int32_t imb_month_of_day(int32_t day);
int imb_month_length(int32_t month);

/* ---- pricing ------------------------------------------------------------------- */

/* One metered charge: blocks = ceil(max(0, value - free) / block), amount =
 * blocks * price.  block == 0 means the edition has no such charge. */
typedef struct imb_charge {
  int64_t free;
  int64_t block;
  int64_t price; /* micro-units per block */
} imb_charge;

/* The prices of one edition.  Free editions are never billed for usage. */
typedef struct imb_rate {
  int64_t monthly_fee; /* micro-units */
  int is_free;
  imb_charge dau, groups, mau;
} imb_rate;

enum { IMB_TRTC_TIERS = 5 }; /* audio, hd, fhd, 2k, 4k: the order free minutes are used in */

typedef struct imb_trtc {
  int64_t seconds[IMB_TRTC_TIERS];
  int64_t price_per_1000[IMB_TRTC_TIERS]; /* micro-units per 1,000 minutes */
  int64_t free_minutes;
  /* out */
  int64_t minutes[IMB_TRTC_TIERS]; /* ceil(seconds / 60) */
  int64_t billed[IMB_TRTC_TIERS];  /* after free minutes */
  int64_t cents;
  /* the amount before rounding, whole units and billionths: every digit of
   * sum(billed x price_per_1000) / 1,000, for a line's note */
  int64_t exact_units, exact_nanos;
} imb_trtc;

imb_status imb_rate_check(const imb_rate *r);
/* The blocks and the amount in cents of one charge for a usage value. */
imb_status imb_charge_apply(const imb_charge *c, int64_t value, int64_t *blocks, int64_t *cents);
/* round_half_up(monthly * days / days_in_month) in cents. */
imb_status imb_prorate(int64_t monthly, int32_t days, int32_t days_in_month, int64_t *cents);
/* Full-month total in cents: plan fee plus DAU, group and MAU overage, each
 * line rounded on its own as on an invoice.  The arithmetic alone: a total
 * beyond IMB_MONEY_MAX_CENTS is given (a binding names it in its message),
 * where the batch entry points below refuse it. */
imb_status imb_month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau, int64_t *cents);

/* imb_month_total over n scenarios.  Each input is an array read with its own
 * step: step 1 walks it, step 0 repeats its first value (and NULL means 0).
 * Every count is bounded by limit >= 0, and every total by limit and by
 * IMB_MONEY_MAX_CENTS (a total is an invoice's): a count outside 0 .. limit is
 * IMB_ERANGE with *bad_field 0, 1 or 2 (dau, groups, mau), a total beyond
 * either bound IMB_ERANGE with *bad_field -1; *bad is the scenario's index.
 * Bindings whose numbers are IEEE-754 doubles (LuaJIT) pass 2^53, so every
 * count converts exactly. */
imb_status imb_totals_upto(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                                   const int64_t *groups, size_t groups_step, const int64_t *mau,
                                   size_t mau_step, int64_t limit, int64_t *out, size_t *bad, int *bad_field);
/* imb_totals_upto with counts unbounded (limit INT64_MAX): totals are still
 * at most IMB_MONEY_MAX_CENTS. */
imb_status imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                              const int64_t *groups, size_t groups_step, const int64_t *mau, size_t mau_step,
                              int64_t *out, size_t *bad);

/* The number of processors online (at least 1): the default number of
 * threads of the batch entry points below. */
int imb_cores(void);

/* imb_totals_upto on `threads` POSIX threads (0: imb_cores()), each pricing
 * one contiguous part of the scenarios.  Results, and on failure *bad and
 * *bad_field, are those of imb_totals_upto: the first failing scenario by
 * index wins, whatever the timing.  Every thread has ended when it returns.
 * A small batch runs on fewer threads. */
imb_status imb_totals_par(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                                  const int64_t *groups, size_t groups_step, const int64_t *mau, size_t mau_step,
                                  int64_t limit, int64_t *out, size_t *bad, int *bad_field, int threads);
/* The same scenarios priced on n_rates editions into out[0 .. n_rates-1], a
 * chunk of scenarios at a time on every edition while its inputs are in
 * cache.  On failure *bad is the first failing scenario and *bad_rate the
 * first edition failing there (*bad_field as above); IMB_ENOMEM when there is
 * no memory for the editions' prepared prices. */
imb_status imb_totals_many(const imb_rate *const *rates, size_t n_rates, size_t n, const int64_t *dau,
                                   size_t dau_step, const int64_t *groups, size_t groups_step, const int64_t *mau,
                                   size_t mau_step, int64_t limit, int64_t *const *out, size_t *bad, int *bad_field,
                                   size_t *bad_rate, int threads);

/* A caller's way to stop a long batch call (a notebook's interrupt): the
 * core calls poll(ctx) on the caller's own thread only (never on one it
 * started): before the first chunk of scenarios, then between chunks at most
 * every IMB_STOP_MS milliseconds.  A nonzero answer stops the call: every thread stops at its
 * next chunk and is joined, and the call returns IMB_ESTOPPED (what it wrote
 * so far is not a result).  A NULL imb_stop, or a NULL poll, never stops. */
enum { IMB_STOP_MS = 20 };
typedef int (*imb_poll_fn)(void *ctx);
typedef struct imb_stop {
  imb_poll_fn poll;
  void *ctx;
} imb_stop;

/* imb_totals_many that the caller can stop (imb_stop). */
imb_status imb_totals_many_stop(const imb_rate *const *rates, size_t n_rates, size_t n, const int64_t *dau,
                                        size_t dau_step, const int64_t *groups, size_t groups_step,
                                        const int64_t *mau, size_t mau_step, int64_t limit, int64_t *const *out,
                                        size_t *bad, int *bad_field, size_t *bad_rate, int threads,
                                        const imb_stop *stop);

/* TRTC call minutes: per tier ceil(seconds / 60), free minutes taken in tier
 * order, the sum priced exactly and rounded once. */
imb_status imb_trtc_price(imb_trtc *t);

/* ---- what-if grids ------------------------------------------------------------ */

/* A grid is editions x monthly growth rates x starting DAU.  Scenario
 * i = (edition * n_growth + growth) * n_start + start (0-based), so the
 * scenarios of one edition are contiguous.  A scenario's path over the
 * horizon is exact integer arithmetic:
 *   dau(0)    = start
 *   dau(k+1)  = round_half_up(dau(k) * (10^6 + growth_ppm) / 10^6)
 *   groups(k) = groups + round_half_up(dau(k) * groups_per_dau_ppm / 10^6)
 *   mau(k)    = round_half_up(dau(k) * mau_per_dau_ppm / 10^6)
 * and its result is the sum over the months of imb_month_total(). */
enum { IMB_GRID_MAX_MONTHS = 1200 };

typedef struct imb_grid {
  const imb_rate *rates;
  size_t n_rates;
  const int64_t *growth_ppm; /* each in (-10^6, 100 x 10^6]: above -100%, at most +10,000% */
  size_t n_growth;
  const int64_t *start_dau; /* each >= 0 */
  size_t n_start;
  int32_t months; /* 1 .. IMB_GRID_MAX_MONTHS */
  int64_t groups; /* >= 0 */
  int64_t groups_per_dau_ppm; /* >= 0 */
  int64_t mau_per_dau_ppm;    /* >= 0 */
} imb_grid;

/* Checks the parameters; *n is the number of scenarios. */
imb_status imb_grid_check(const imb_grid *g, size_t *n);
/* The next month's DAU: round_half_up(dau * (10^6 + growth_ppm) / 10^6);
 * IMB_ERANGE for dau < 0 or growth_ppm outside (-10^6, 100 x 10^6], the
 * rates a grid takes. */
imb_status imb_grid_grow(int64_t dau, int64_t growth_ppm, int64_t *next);
/* Totals in cents of scenarios lo .. hi-1 into out[0 .. hi-lo-1]; on failure
 * *bad is the failing scenario: IMB_ERANGE for a total beyond what money
 * holds (IMB_MONEY_MAX_CENTS), IMB_EOVERFLOW for arithmetic past 64 bits on
 * the way. */
imb_status imb_grid_run(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad);
/* imb_grid_run on `threads` threads (0: imb_cores()): the same totals, and on
 * failure the same *bad (the first failing scenario by index). */
imb_status imb_grid_run_par(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad,
                                    int threads);
/* imb_grid_run_par that the caller can stop (imb_stop, above). */
imb_status imb_grid_run_stop(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad,
                                     int threads, const imb_stop *stop);
/* For each (growth, start) pair, the edition whose total alone is the lowest
 * is counted in wins[edition] (n_rates entries).  A pair where several
 * editions share the lowest total is a win for none of them: it counts in
 * ties[edition] for each of them (imb_grid_ties), so the order the editions
 * are listed in never decides which one a shared price counts for. */
void imb_grid_wins(const imb_grid *g, const int64_t *totals, uint64_t *wins);
void imb_grid_ties(const imb_grid *g, const int64_t *totals, uint64_t *ties);

/* Summaries of an array of integers. */
void imb_stats_minmax(const int64_t *v, size_t n, size_t *imin, size_t *imax);
imb_status imb_stats_sum(const int64_t *v, size_t n, int64_t *sum);
/* round_half_up(sum / n), exact (half away from zero for a negative mean),
 * for any n >= 1 values: a sum past 64 bits is taken in 128; IMB_ERANGE for
 * n = 0. */
imb_status imb_stats_mean(const int64_t *v, size_t n, int64_t *mean);
/* Nearest-rank percentile, p_ppm in 0 .. 10^6: the value of rank
 * max(1, ceil(p * n / 10^6)) in sorted order.  scratch holds n values. */
imb_status imb_stats_percentile(const int64_t *v, size_t n, int64_t p_ppm, int64_t *scratch,
                                        int64_t *out);

/* ---- scenario columns ------------------------------------------------------- */

/* A column: n int64 values in C memory (counts in, cents out), which
 * scenarios are built in and priced from without a Lua value each.  The Lua
 * binding owns the memory (or, for a view, keeps its owner alive) and sets
 * readonly for a view of a grid's results (1), or while a stoppable call's
 * threads read the column (2: the stop hook's Lua may not write it); the FFI
 * binding reads and writes v through this layout, only where readonly is 0. */
typedef struct imb_column {
  int64_t *v;
  size_t n;
  int readonly;
} imb_column;

/* out[i] = from + i * step, checked: IMB_EOVERFLOW when a value leaves 64 bits. */
imb_status imb_col_range(int64_t *out, size_t n, int64_t from, int64_t step);
/* out[i] = round_half_up(in[i] * ppm / 10^6) (half away from zero); out may be
 * in.  *bad is the first value whose result does not fit. */
imb_status imb_col_scale(int64_t *out, const int64_t *in, size_t n, int64_t ppm, size_t *bad);
/* out[i] = a[i] + b[i * b_step], checked; out may be a or b. */
imb_status imb_col_add(int64_t *out, const int64_t *a, const int64_t *b, size_t b_step, size_t n,
                               size_t *bad);
/* out[i] = in[i] after `months` months of growth at growth_ppm a month, each
 * month rounded half-up as the grid does (imb_grid_grow, and its range of
 * growth_ppm). */
imb_status imb_col_grow(int64_t *out, const int64_t *in, size_t n, int64_t growth_ppm, int32_t months,
                                size_t *bad);
/* Uniform whole numbers in lo .. hi (lo <= hi): out[i] is a function of
 * (seed, i) alone (splitmix64), the same on every machine; the bias is below
 * (hi - lo + 1) / 2^64. */
void imb_col_random(int64_t *out, size_t n, uint64_t seed, int64_t lo, int64_t hi);
/* The first i with v[i] outside lo .. hi, or n. */
size_t imb_col_find_outside(const int64_t *v, size_t n, int64_t lo, int64_t hi);
/* Memory for n values (NULL when there is none), as a binding allocates a
 * column: a large one faults in far fewer pages where the system offers
 * huge pages.  Free it with imb_col_free. */
int64_t *imb_col_alloc(size_t n);
void imb_col_free(int64_t *v);

/* ---- quota rules: the store-neutral decision ---------------------------------------
 *
 * Every quota question is answered by one pure function, imb_plan_build():
 * from the limits in force and one action it writes a plan, a short list of
 * guarded operations on named keys.  A store (this process's meter, an nginx
 * shared dict, Redis) holds the keys and applies a plan atomically without
 * knowing any rule:
 *
 *   1. every guard is checked against the values the store holds before the
 *      plan (the first failing guard, in plan order, decides the outcome:
 *      the action is refused, or it is a no-op, or a duplicate);
 *   2. if no guard fails, every effect is applied, each only when its
 *      condition (op.when) holds on the values before the plan.
 *
 * docs/store.md is the contract, with the key layout the shared stores use. */

enum { IMB_UNLIMITED = -1 };

typedef enum imb_gtype {
  IMB_G_PRIVATE, IMB_G_PUBLIC, IMB_G_CHATROOM, IMB_G_AVCHATROOM, IMB_G_BCHATROOM, IMB_G_COMMUNITY,
  IMB_G_COUNT
} imb_gtype;

/* Features only some editions have; an action that needs one is refused on
 * an edition without it. */
typedef enum imb_feature {
  IMB_F_PUSH_ALL, IMB_F_MULTI_DEVICE, IMB_F_LOCAL_SEARCH, IMB_F_AV_PREJOIN_HISTORY, IMB_F_COMMUNITY,
  IMB_F_READ_RECEIPTS, IMB_F_TARGETED_MESSAGES, IMB_F_AV_ONLINE_MEMBERS, IMB_F_AV_BROADCAST,
  IMB_F_USER_STATUS, IMB_F_CONVERSATION_MARK, IMB_F_CONVERSATION_GROUP, IMB_F_AV_MEMBER_BAN,
  IMB_F_COUNT
} imb_feature;

/* The limits in force, IMB_UNLIMITED where there is none.  members[] is per
 * group type (AVChatRoom and BChatRoom have no member cap); features is a
 * bit set, bit (1 << imb_feature). */
typedef struct imb_limits {
  int64_t accounts, friends_per_user, groups_per_user, av_groups, non_av_groups;
  int64_t daily_net_groups, bchatroom_daily, bchatroom_total;
  int64_t members[IMB_G_COUNT];
  uint32_t features;
  /* only disbands of groups created the same day lower the daily net increase */
  int same_day_disbands;
} imb_limits;

/* Tencent keeps a friend list per user.  IMB_A_ADD_FRIEND and
 * IMB_A_REMOVE_FRIEND are two-way (Add_Type_Both, Delete_Type_Both): each is
 * applied as its two one-way sides (imb_action_parts), the user's list
 * (_ONE_WAY: full is 30010) and the peer's (_BACK: full is 30014).  New kinds
 * come last: stores keep kinds by number in what they write. */
typedef enum imb_action_kind {
  IMB_A_CREATE_ACCOUNT, IMB_A_DELETE_ACCOUNT, IMB_A_LOGIN, IMB_A_CREATE_GROUP, IMB_A_DISBAND_GROUP,
  IMB_A_JOIN, IMB_A_LEAVE, IMB_A_ADD_FRIEND, IMB_A_REMOVE_FRIEND,
  IMB_A_ADD_FRIEND_ONE_WAY,    /* the user's list gains the peer */
  IMB_A_REMOVE_FRIEND_ONE_WAY, /* the user's list loses the peer */
  IMB_A_ADD_FRIEND_BACK,       /* the peer's list gains the user */
  IMB_A_REMOVE_FRIEND_BACK,    /* the peer's list loses the user */
  IMB_A_COUNT
} imb_action_kind;

/* What a limit refusal names. */
typedef enum imb_limit_id {
  IMB_L_NONE, IMB_L_ACCOUNTS, IMB_L_FRIENDS_PER_USER, IMB_L_GROUPS_PER_USER, IMB_L_MEMBERS_PER_GROUP,
  IMB_L_AV_GROUPS, IMB_L_NON_AV_GROUPS, IMB_L_DAILY_NET_GROUPS, IMB_L_BCHATROOM_DAILY,
  IMB_L_BCHATROOM_TOTAL, IMB_L_GROUP_EXISTS, IMB_L_GROUP_ID, IMB_L_DAY_OPEN, IMB_L_FEATURE,
  IMB_L_FUTURE, IMB_L_COUNT
} imb_limit_id;

/* Refusal codes that are not Tencent's are negative: */
enum {
  IMB_R_CLOSED = -1, /* the day can no longer be counted exactly (released, or past the login window) */
  IMB_R_FUTURE = -2  /* the event is dated too far after everything the store has counted */
};

typedef struct imb_refusal {
  int32_t code;   /* Tencent's: 70398, 10058, 10036, 10006, 10037, 10014, 30010, 30014, 10010, 10021, 10059;
                     or IMB_R_CLOSED, IMB_R_FUTURE */
  int32_t limit;  /* imb_limit_id */
  int64_t max;    /* the limit, or IMB_UNLIMITED when the refusal is not a quota */
  int64_t current;/* the value the limit was checked against */
  int32_t peer;   /* friends: 1 when the peer, not the user, is at the limit */
  int32_t feature;/* IMB_L_FEATURE: the imb_feature the edition lacks */
} imb_refusal;

/* The keys a plan names.  Each belongs to a subject: the app, the action's
 * user, its peer, its group, its day or its month. */
typedef enum imb_key {
  IMB_K_ACCOUNT,       /* user: 1 while the account exists */
  IMB_K_ACCOUNTS,      /* app: net accounts */
  IMB_K_GROUP,         /* group: 0 when there is none, else 1 + its imb_gtype */
  IMB_K_GROUPS,        /* app: net groups of every type */
  IMB_K_GROUPS_OF,     /* app and a type (op.gtype): net groups of that type */
  IMB_K_GROUPS_NON_AV, /* app: net Private, Public, ChatRoom and Community groups */
  IMB_K_DAY_NET,       /* day: groups created minus groups disbanded that day */
  IMB_K_DAY_NET_SAME,  /* day: the same, counting only disbands of groups created that day */
  IMB_K_DAY_BCHAT,     /* day: BChatRoom groups created that day */
  IMB_K_MEMBERS,       /* group: the set of its members (users) */
  IMB_K_JOINED,        /* user: the set of groups joined */
  IMB_K_FRIENDS,       /* user: the set of friends (users) */
  IMB_K_DAU,           /* day: distinct users with a counted login */
  IMB_K_MAU,           /* month: distinct users with a counted login */
  IMB_K_ACTIVITY,      /* user: an imb_activity, the user's recent logins */
  IMB_K_LAST_DAY,      /* app: the latest day with a counted event (IMB_NO_DAY: none) */
  IMB_K_RELEASED,      /* app: days before this one are closed (IMB_NO_DAY: none) */
  IMB_K_GROUP_LOG,     /* day: the (instant, delta) entries of net group changes */
  IMB_K_EVENT,         /* event id: remembered for IMB_DEDUP_DAYS */
  IMB_K_GROUP_T,       /* group: the instant it was created (meaningful while IMB_K_GROUP != 0) */
  IMB_K_COUNT
} imb_key;

typedef enum imb_subject {
  IMB_S_APP, IMB_S_USER, IMB_S_PEER, IMB_S_GROUP, IMB_S_DAY, IMB_S_MONTH, IMB_S_EVENT, IMB_S_COUNT
} imb_subject;

typedef enum imb_op_kind {
  /* guards: the op passes when the value held satisfies it */
  IMB_OP_EQ,    /* value == arg */
  IMB_OP_NE,    /* value != arg */
  IMB_OP_LE,    /* value <= arg */
  IMB_OP_GE,    /* value >= arg (IMB_NO_DAY values pass) */
  IMB_OP_HAS,   /* the set holds member */
  IMB_OP_LACKS, /* the set does not hold member */
  IMB_OP_FRESH, /* the event id was not seen; effect: remember it */
  /* effects, some with a guard of their own */
  IMB_OP_ADD,   /* value += arg; guard (bound != IMB_UNLIMITED): value + arg <= bound */
  IMB_OP_SET,   /* value = arg */
  IMB_OP_MAX,   /* value = max(value, arg) */
  IMB_OP_SADD,  /* add member; guard (bound != IMB_UNLIMITED): size before < bound */
  IMB_OP_SREM,  /* remove member */
  IMB_OP_LOG,   /* append (plan.t, arg) to the log */
  IMB_OP_MARK,  /* imb_activity_mark(value, plan.day, plan.month): a counted login; a new day adds 1
                   to DAU[day], a new month 1 to MAU[month]; a closed day is refused IMB_R_CLOSED */
  IMB_OP_CASCADE_USER,  /* the user's id is deleted: every membership and friendship of the user ends */
  IMB_OP_CASCADE_GROUP, /* the group ends: every membership in it ends */
  IMB_OP_COUNTED,       /* guard: the user has something counted: an account (IMB_K_ACCOUNT != 0), a
                           membership (IMB_K_JOINED not empty) or a friendship (IMB_K_FRIENDS not empty) */
  IMB_OP_COUNT
} imb_op_kind;

/* When an effect applies (judged on the values before the plan). */
typedef enum imb_when {
  IMB_W_ALWAYS,
  IMB_W_GROUP_NON_AV,  /* the group's type (IMB_K_GROUP) is Private, Public, ChatRoom or Community */
  IMB_W_GROUP_TODAY,   /* the group was created on the plan's day: IMB_K_GROUP_T >= plan.day_start */
  IMB_W_USER_ACCOUNT   /* the user has an account: IMB_K_ACCOUNT != 0 */
} imb_when;

/* What a failed guard means. */
typedef enum imb_fail { IMB_FAIL_NONE, IMB_FAIL_REFUSE, IMB_FAIL_NOOP, IMB_FAIL_DUPLICATE } imb_fail;

enum {
  IMB_PLAN_MAX = 16,
  IMB_GTYPE_OF_GROUP = -1, /* op.gtype: the type the group holds (IMB_K_GROUP - 1) */
  IMB_NO_DAY = -2147483647 - 1
};

typedef struct imb_op {
  int32_t kind;    /* imb_op_kind */
  int32_t key;     /* imb_key */
  int32_t subject; /* imb_subject whose key it is */
  int32_t member;  /* set ops: the imb_subject that is the member */
  int32_t gtype;   /* IMB_K_GROUPS_OF: an imb_gtype or IMB_GTYPE_OF_GROUP */
  int32_t when;    /* imb_when */
  int64_t arg;     /* the delta, the value set or compared */
  int64_t bound;   /* ADD, SADD: see above; IMB_UNLIMITED: no guard */
  int32_t by_type; /* 1: the bound is plan.by_type[the group's type] instead */
  int32_t fail;    /* imb_fail for a failing guard */
  int32_t code;    /* refusal code */
  int32_t limit;   /* imb_limit_id the refusal names */
} imb_op;

typedef struct imb_plan {
  int32_t refused;       /* 1: refused before any store is read (refusal says why) */
  imb_refusal refusal;
  int32_t action;        /* imb_action_kind */
  int32_t gtype;         /* create_group: the requested type */
  int64_t t;             /* the action's instant, Unix seconds */
  int32_t day, month;    /* its billing day and month */
  int64_t day_start;     /* the instant its day begins in the billing offset */
  int32_t nops;
  imb_op op[IMB_PLAN_MAX];
  int64_t by_type[IMB_G_COUNT];
} imb_plan;

/* The outcome of a plan in a store. */
typedef enum imb_result { IMB_APPLIED, IMB_DUPLICATE, IMB_REFUSED, IMB_UNCHANGED } imb_result;

/* The plan of one action at instant t in the billing offset.  has_id: the
 * action carries an event id (a FRESH guard comes first).  now: the store's
 * clock (INT64_MIN: none).  IMB_ERANGE for an unknown kind or type, an
 * instant outside the calendar, or a NULL lim or out. */
imb_status imb_plan_build(const imb_limits *lim, int32_t kind, int32_t gtype, int64_t t, int32_t offset,
                                  int has_id, int64_t now, imb_plan *out);

enum { IMB_PARTS_MAX = 2 };

/* The actions a store applies for one action, in order and all or nothing:
 * each is planned (imb_plan_build) and its guards decide for it alone; the
 * action is refused or a duplicate when a part is (the first in order), and
 * unchanged when every part is.  A two-way friendship action is its two
 * one-way sides, so only a side that is not already as asked is changed and
 * checked against its bound; every other action is its own one part (a
 * two-way kind has no plan of its own: imb_plan_build answers IMB_ERANGE).
 * Returns how many parts were written to parts[], 0 for an unknown kind. */
int imb_action_parts(int32_t kind, int32_t parts[IMB_PARTS_MAX]);

/* The plan that takes back what an applied plan did (a reservation that is
 * not confirmed): ADD by -arg, SET back, SADD by SREM, LOG by the opposite
 * entry at the same instant, guarded (IMB_FAIL_NOOP) by every value the plan
 * SET still holding it, so an undo applied twice, or after the account was
 * deleted or the group disbanded, changes nothing.  IMB_ESTATE for a plan
 * with a cascade or a login, which are never reserved; IMB_ERANGE for a NULL
 * or a plan whose nops is outside 0 .. IMB_PLAN_MAX (nothing is read). */
imb_status imb_plan_undo(const imb_plan *p, imb_plan *out);

/* A user's recent logins, as every store keeps it: the latest day with a
 * counted login (IMB_NO_DAY: none), bit k of days for a login on last - k,
 * bit j of months for one in the month of last minus j. */
typedef struct imb_activity {
  int32_t last;
  uint32_t months;
  uint64_t days;
} imb_activity;

enum {
  IMB_LOGIN_LATE_DAYS = 63, /* a login at most this many days before the user's latest is counted exactly */
  IMB_ACTIVITY_MONTHS = 8,
  IMB_ACTIVITY_BYTES = 16   /* imb_activity_encode: little-endian last, months, days */
};

/* Counts a login of day (in month) into a: *day_new and *month_new say
 * whether the day and the month were new for the user.  IMB_ERANGE (nothing
 * changed) when the day is more than IMB_LOGIN_LATE_DAYS before a.last. */
imb_status imb_activity_mark(imb_activity *a, int32_t day, int32_t month, int *day_new, int *month_new);
void imb_activity_encode(const imb_activity *a, unsigned char *out);
imb_status imb_activity_decode(const unsigned char *in, size_t len, imb_activity *a);

/* The highest net group count of a day, in time order: open (the count at
 * 00:00) plus the highest running sum of the day's log entries sorted by
 * instant, disbands before creates at the same instant.  ts/deltas are
 * reordered. */
imb_status imb_day_peak(int64_t open, int64_t *ts, int64_t *deltas, size_t n, int64_t *peak, int64_t *close);

const char *imb_limit_name(int32_t id);
const char *imb_action_name(int32_t k);
const char *imb_gtype_name(int32_t g);
const char *imb_feature_name(int32_t f);
const char *imb_key_name(int32_t k);
const char *imb_trtc_tier_name(int32_t i); /* "audio", "hd", "fhd", "2k", "4k" */
int imb_gtype_is_av(int32_t g);
void imb_limits_unlimited(imb_limits *l);

/* ---- edition changes and plan fees -------------------------------------------- */

/* A price book's edition-change policy, as data: */
typedef struct imb_policy {
  int32_t return_to_free;     /* an app may go back to a free edition after leaving it */
  int32_t activation_free_to; /* the first paid activation's month has no plan fee for activations
                                 before this day (IMB_NO_DAY: never; INT32_MAX: always) */
} imb_policy;

/* One edition's time in force within a month or a history. */
typedef struct imb_span {
  int32_t from;        /* first day (IMB_NO_DAY: since before anything counted) */
  int32_t edition;     /* the caller's edition number */
  int32_t is_free;
  int64_t monthly_fee; /* micro-units */
} imb_span;

typedef enum imb_change_verdict {
  IMB_CH_OK,
  IMB_CH_SAME,      /* the edition is already in force */
  IMB_CH_TWICE,     /* the month has a change already (the first paid activation counts as one) */
  IMB_CH_BACKWARDS, /* before the change in force: changes come in time order */
  IMB_CH_NO_RETURN, /* back to a free edition, which the policy does not allow */
  IMB_CH_DUPLICATE, /* a store's answer: this very change was applied already */
  IMB_CH_FUTURE,    /* a meter's answer: dated more than IMB_FUTURE_DAYS after the latest counted day,
                       or more than IMB_CLOCK_AHEAD after its clock (a sender's clock error) */
  IMB_CH_CLOSED,    /* a meter's answer: dated on a day released by imb_meter_release */
  IMB_CH_INVALID    /* imb_change_check's answer to arguments that are no history: a NULL, n < 1,
                       or a day outside IMB_DAY_MIN .. IMB_DAY_MAX (nothing is read) */
} imb_change_verdict;

/* May an app whose history is spans[0..n-1] (n >= 1: oldest first, the last one in
 * force now) and whose first paid activation was `activated` (IMB_NO_DAY:
 * none known) change to `to` on `day`?  IMB_CH_INVALID, never IMB_CH_OK, when
 * p, spans or to is NULL, n < 1 or day is outside the calendar.  One change per calendar month (the
 * first paid activation counts as that month's change); never backwards in
 * time; a free edition again only where the policy allows it. */
imb_change_verdict imb_change_check(const imb_policy *p, const imb_span *spans, int n, int32_t activated,
                                            int32_t day, const imb_span *to);

/* How a plan fee line came about. */
typedef enum imb_fee_kind {
  IMB_FEE_FULL,        /* the whole month on one paid edition */
  IMB_FEE_BY_DAY,      /* part of the month, monthly * days / days_in_month */
  IMB_FEE_ACTIVATION,  /* the first paid activation's month, free under the policy */
  IMB_FEE_FREE_EDITION /* a free edition: no fee, usage never billed */
} imb_fee_kind;

typedef struct imb_fee_line {
  int32_t kind;     /* imb_fee_kind */
  int32_t edition;  /* the span's edition number */
  int32_t from, to; /* days, inclusive */
  int32_t days;
  int64_t cents;
} imb_fee_line;

/* The plan fee lines of a month: spans[0] is the edition in force on the
 * month's first day, later spans are changes within the month (from inside
 * the month, increasing); activated is the first paid activation (IMB_NO_DAY:
 * none known, or before the app's history).  Days before a first activation
 * that falls in the month carry no fee.  The facts are judged by the policy
 * first: *verdict is IMB_CH_OK, or why they break it (then no lines).  *n
 * receives the number of lines (at most nspans).  IMB_ERANGE for facts that
 * are not a month's (spans out of order or outside it, an activation after
 * the month, an activation on a free edition). */
imb_status imb_month_fees(const imb_policy *p, int32_t month, const imb_span *spans, int nspans,
                                  int32_t activated, imb_fee_line *out, int *n, imb_change_verdict *verdict);

/* ---- the in-process store ----------------------------------------------------------- */

typedef struct imb_meter imb_meter;

typedef struct imb_event {
  int32_t kind;                  /* imb_action_kind */
  const char *a; size_t alen;    /* user; for groups: the group id */
  const char *b; size_t blen;    /* join/leave: the user; friends: the peer */
  int32_t gtype;                 /* create_group only */
  int64_t t;                     /* Unix seconds */
  const char *id; size_t idlen;  /* optional event id (NULL: none) */
} imb_event;

enum {
  IMB_EDITION_MAXLEN = 63,
  IMB_DEDUP_DAYS = 34,   /* event ids are remembered this many days after the latest day counted */
  IMB_ID_MAX = 1024,     /* bytes in a user, group or event id */
  IMB_FUTURE_DAYS = 366, /* an event more days than this after the latest counted day is refused IMB_R_FUTURE */
  IMB_CLOCK_AHEAD = 86400 /* with a clock: an event more seconds than this after it is refused IMB_R_FUTURE */
};

/* IMB_OK when an instant is one a meter takes: its UTC day is after
 * 0001-01-01 and before 9999-12-31, so its billing day in any offset is a
 * calendar day.  Every binding checks instants with this. */
imb_status imb_instant_check(int64_t t);

/* A new meter on an edition (1 .. IMB_EDITION_MAXLEN bytes without NUL,
 * the ids a saved file holds), at an offset imb_tz_valid takes (whole
 * minutes from -12:00 to +14:00, the zones a saved file holds): IMB_ERANGE
 * for anything else, and then *out is untouched. */
imb_status imb_meter_new(int32_t offset, const char *edition, size_t elen, const imb_limits *lim,
                                 int is_free, imb_meter **out);
void imb_meter_free(imb_meter *m);
int32_t imb_meter_offset(const imb_meter *m);
/* A clock for the future-event bound (Unix seconds; INT64_MIN: none, the
 * default).  A gateway sets it to the time it receives an event. */
void imb_meter_set_clock(imb_meter *m, int64_t now);

/* Applies one action: the plan of imb_plan_build against this meter's
 * counts.  *r is filled when *res is IMB_REFUSED.  Only an action applied
 * keeps the user and group ids it names: refused, a duplicate, unchanged or
 * failed (any status but IMB_OK), it leaves the meter's ids and counts as
 * they were (a query then finds an id only such actions named unknown). */
imb_status imb_meter_apply(imb_meter *m, const imb_event *ev, imb_result *res, imb_refusal *r);
/* The hot path: imb_meter_apply for a login without an event id. */
imb_status imb_meter_login(imb_meter *m, const char *user, size_t len, int64_t t, imb_result *res,
                                   imb_refusal *r);
/* n logins at once, with the result of n calls.  Before counting anything
 * every element is checked (lengths 1 .. IMB_ID_MAX, instants in the
 * calendar): on a bad one nothing is counted and *bad is its index (IMB_ERANGE).
 * *counted: logins counted or already counted that day.  A failure while
 * counting (IMB_ENOMEM storing a new user) is not rolled back: elements
 * before *bad are counted (*counted of them), *bad and those after it are not;
 * a login is counted once a day, so calling again with the same arrays
 * finishes the batch exactly. */
imb_status imb_meter_logins(imb_meter *m, const char *const *users, const size_t *lens, const int64_t *ts,
                                    size_t n, size_t *counted, size_t *bad);

/* Edition history (edition: as imb_meter_new's).  A change at t applies to actions at or after t; the
 * verdict of imb_change_check decides (IMB_CH_OK: applied), after the bounds
 * every event meets: a change far in the future (IMB_CH_FUTURE) or on a
 * released day (IMB_CH_CLOSED) is refused and changes nothing. */
imb_status imb_meter_change(imb_meter *m, const imb_policy *p, int64_t t, const char *edition, size_t elen,
                                    const imb_limits *lim, int is_free, imb_change_verdict *verdict);
/* imb_meter_change with an event id (NULL: none; else 1 .. IMB_ID_MAX bytes, as
 * every event's): an id already remembered, by a change or by any other
 * event, is IMB_CH_DUPLICATE and changes nothing; a change applied
 * remembers it for its day, which then counts as reached (the meter's last
 * day moves up to it, as for every counted event).  A refused change does not
 * remember it. */
imb_status imb_meter_change_id(imb_meter *m, const imb_policy *p, int64_t t, const char *edition,
                                       size_t elen, const imb_limits *lim, int is_free, const char *id,
                                       size_t idlen, imb_change_verdict *verdict);
int imb_meter_segments(const imb_meter *m);
/* Segment i: from_t (INT64_MIN for the first), its billing day, edition id, limits.
 * Each output may be NULL; for i outside 0 .. imb_meter_segments() - 1 nothing is
 * written. */
void imb_meter_segment(const imb_meter *m, int i, int64_t *from_t, int32_t *day, const char **edition,
                               imb_limits *lim, int *is_free);
/* The first paid activation day (IMB_NO_DAY: before the meter's life, or
 * none): set when the app starts on a paid edition, and by the first change
 * from a free edition to a paid one.  imb_meter_set_activated ignores a day
 * outside IMB_DAY_MIN .. IMB_DAY_MAX other than IMB_NO_DAY (no saved file
 * holds one). */
void imb_meter_set_activated(imb_meter *m, int32_t day);
int32_t imb_meter_activated(const imb_meter *m);
/* Replace the limits of one segment (add-ons bought later).  Limits here, in
 * imb_meter_new and in imb_meter_change are those a saved file holds: every
 * bound IMB_UNLIMITED (-1) or more and no feature bit past IMB_F_COUNT;
 * IMB_ERANGE for others, and nothing changes. */
imb_status imb_meter_set_limits(imb_meter *m, int i, const imb_limits *lim);

/* Queries. */
int64_t imb_meter_accounts(const imb_meter *m);
int64_t imb_meter_dau(const imb_meter *m, int32_t day);
int64_t imb_meter_mau(const imb_meter *m, int32_t month);
void imb_meter_groups(const imb_meter *m, int64_t by_type[IMB_G_COUNT], int64_t *total);
/* Per day of the month: distinct logins and the peak net group count in time
 * order (the count carried into the day included).  dau and groups hold 31
 * entries; those past the month's last day are 0.  IMB_ERANGE for a month
 * outside the calendar's years. */
imb_status imb_meter_month(const imb_meter *m, int32_t month, int64_t *dau, int64_t *groups, int64_t *mau);
/* Counts on sets; -1 when the user or group is unknown. */
int64_t imb_meter_user_friends(const imb_meter *m, const char *u, size_t len);
int64_t imb_meter_user_groups(const imb_meter *m, const char *u, size_t len);
int64_t imb_meter_group_members(const imb_meter *m, const char *g, size_t len, int32_t *type);
int imb_meter_has_account(const imb_meter *m, const char *u, size_t len);
int32_t imb_meter_last_day(const imb_meter *m);

/* Frees the event ids recorded for days before `day` and closes those days to
 * every event; daily and monthly totals stay.  IMB_ERANGE when `day` is
 * inside the dedup window (later than last_day - IMB_DEDUP_DAYS). */
imb_status imb_meter_release(imb_meter *m, int32_t day);
int32_t imb_meter_released_before(const imb_meter *m);

typedef struct imb_meter_mem {
  size_t users, user_bytes, groups, group_bytes, user_days, day_bytes, months, month_bytes, event_ids,
      event_bytes, total;
} imb_meter_mem;
void imb_meter_memory(const imb_meter *m, imb_meter_mem *out);

/* ---- saved meters (meter_file.c) ---------------------------------------- */

/* Metadata saved with a meter (the Lua layer keeps its book and add-ons
 * there): typed records, each a key and a value, kept in order.  A key may
 * repeat (a list is its records in order).  Keys and byte values are any
 * bytes, length-prefixed in the file, so no value is ever read back as
 * another key or record. */
typedef enum imb_rec_type { IMB_REC_BYTES = 1, IMB_REC_INT = 2, IMB_REC_BOOL = 3 } imb_rec_type;

typedef struct imb_record {
  imb_rec_type type;
  const char *key;
  size_t klen;
  const char *bytes; /* IMB_REC_BYTES */
  size_t blen;
  int64_t i;         /* IMB_REC_INT; IMB_REC_BOOL: 0 or 1 */
} imb_record;

enum {
  IMB_FILE_VERSION = 4,       /* written; versions 2 to 4 are read */
  IMB_RECORDS_MAX = 65536,
  IMB_RECORD_KEY_MAX = 4096,
  IMB_RECORD_BYTES_MAX = 1048576,
  IMB_FILE_WHY = 256
};

/* Why a save or a load failed.  sys is the errno of the system call that
 * failed (ENOENT, EISDIR, ENOSPC, EACCES, ENAMETOOLONG...), 0 when the
 * reason is not the system's (a FIFO, a corrupt file).  why says what
 * failed; for a corrupt file it names the field first ("days[3].g_open: ..."). */
typedef struct imb_file_error {
  int sys;
  char why[IMB_FILE_WHY];
} imb_file_error;

/* Test hooks; NULL means neither. */
typedef struct imb_save_opts {
  int64_t crash_after; /* >= 0: write that many bytes of the temporary file, then stop as a crash would */
  int named_temp;      /* use a named temporary file even where an unnamed one (O_TMPFILE) works */
} imb_save_opts;

/* Writes the meter and the records to path (pathlen bytes, no NUL inside)
 * so that path always holds the old state or the new one: the state goes to
 * a temporary file in the target's directory (unnamed where the system
 * allows, else named ".<name>.imbtmp-..." and created exclusively), synced,
 * renamed over path, and the directory synced.  The target keeps its
 * permission bits (a new file gets 0666 less the umask).  A symbolic link is
 * followed to the regular file it names, which is replaced; anything else
 * that is not a regular file is refused.  On failure nothing is left behind
 * and path is untouched.  A successful save removes temporary files an
 * interrupted save of the same target left. */
imb_status imb_meter_save(const imb_meter *m, const char *path, size_t pathlen, const imb_record *recs,
                                  size_t nrecs, const imb_save_opts *opts, imb_file_error *err);

/* What a load gives beside the meter; free with imb_saved_free. */
typedef struct imb_saved {
  uint32_t version;  /* the file's format version: 2 or 3 */
  imb_record *recs;  /* version 2: one IMB_REC_BYTES record "meta", the old key=value text */
  size_t nrecs;
} imb_saved;

/* Reads a saved meter: only a regular file, its header first, then exactly
 * the body the header declares (it must match the file's size), checked
 * against its checksum, then every index, count and total against what the
 * file holds.  The first inconsistency refuses the whole file (IMB_ECORRUPT,
 * err->why naming the field): never a half-loaded meter. */
imb_status imb_meter_load(const char *path, size_t pathlen, imb_meter **out, imb_saved *saved,
                                  imb_file_error *err);
/* The same from bytes in memory (a whole file). */
imb_status imb_meter_load_bytes(const void *bytes, size_t len, imb_meter **out, imb_saved *saved,
                                        imb_file_error *err);
void imb_saved_free(imb_saved *s);

/* Writes the len bytes at data to path (pathlen bytes, no NUL inside) whole
 * or not at all, the way imb_meter_save writes a meter: through a temporary
 * file in path's directory created exclusively (never through a link that is
 * already there, whatever its name), synced and renamed over path.  An
 * existing file keeps its permission bits; a new one gets 0666 less the
 * umask.  A symbolic link at path is refused (never written through), and so
 * is anything else that is not a regular file.  On failure path is untouched
 * and nothing is left behind. */
imb_status imb_file_write(const char *path, size_t pathlen, const void *data, size_t len,
                                  imb_file_error *err);

/* ---- where a charge's line steps ------------------------------------------ */

/* Pricing along an axis (break-even searches, cost curves): a usage value that
 * follows the axis value x by a ratio is round_half_up(x * ratio_ppm / 10^6);
 * ratio_ppm = 10^6 is the axis itself.  ratio_ppm must be >= 1. */
imb_status imb_follow_value(int64_t x, int64_t ratio_ppm, int64_t *value);
/* The least x >= 0 whose followed value exceeds t (0 when t < 0). */
imb_status imb_follow_first_above(int64_t t, int64_t ratio_ppm, int64_t *x);
/* The inverse of a charge's line: the least axis value after x at which the
 * charge's block count changes (its usage crosses the free quota or the end
 * of a block), the charge seeing the followed value of the axis.  For a
 * per-user charge (block 1) above its free quota that is the next value at
 * which the followed usage grows.  IMB_ERANGE when the count never changes
 * again (block 0: no such charge) or x < 0; IMB_EOVERFLOW when that value is
 * beyond 64 bits. */
imb_status imb_charge_next_step(const imb_charge *c, int64_t ratio_ppm, int64_t x, int64_t *next);

]==]
return true
