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
  IMB_MAX_YEAR = 9999
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
} imb_trtc;

imb_status imb_rate_check(const imb_rate *r);
/* The blocks and the amount in cents of one charge for a usage value. */
imb_status imb_charge_apply(const imb_charge *c, int64_t value, int64_t *blocks, int64_t *cents);
/* round_half_up(monthly * days / days_in_month) in cents. */
imb_status imb_prorate(int64_t monthly, int32_t days, int32_t days_in_month, int64_t *cents);
/* Full-month total in cents: plan fee plus DAU, group and MAU overage, each
 * line rounded on its own as on an invoice. */
imb_status imb_month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau, int64_t *cents);

/* imb_month_total over n scenarios.  Each input is an array read with its own
 * step: step 1 walks it, step 0 repeats its first value (and NULL means 0).
 * Every count and every total is bounded by limit >= 0: a count outside
 * 0 .. limit is IMB_ERANGE with *bad_field 0, 1 or 2 (dau, groups, mau), a
 * total beyond it IMB_ERANGE with *bad_field -1; *bad is the scenario's
 * index.  Bindings whose numbers are IEEE-754 doubles (LuaJIT) pass 2^53, so
 * every result converts back exactly. */
imb_status imb_totals_upto(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                                   const int64_t *groups, size_t groups_step, const int64_t *mau,
                                   size_t mau_step, int64_t limit, int64_t *out, size_t *bad, int *bad_field);
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
  const int64_t *growth_ppm; /* each > -10^6 (above -100%) */
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
/* The next month's DAU: round_half_up(dau * (10^6 + growth_ppm) / 10^6). */
imb_status imb_grid_grow(int64_t dau, int64_t growth_ppm, int64_t *next);
/* Totals in cents of scenarios lo .. hi-1 into out[0 .. hi-lo-1]; on failure
 * *bad is the failing scenario. */
imb_status imb_grid_run(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad);
/* imb_grid_run on `threads` threads (0: imb_cores()): the same totals, and on
 * failure the same *bad (the first failing scenario by index). */
imb_status imb_grid_run_par(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad,
                                    int threads);
/* For each (growth, start) pair, the edition with the lowest total (the first
 * on a tie) is counted in wins[edition] (n_rates entries). */
void imb_grid_wins(const imb_grid *g, const int64_t *totals, uint64_t *wins);

/* Summaries of an array of integers. */
void imb_stats_minmax(const int64_t *v, size_t n, size_t *imin, size_t *imax);
imb_status imb_stats_sum(const int64_t *v, size_t n, int64_t *sum);
/* Nearest-rank percentile, p_ppm in 0 .. 10^6: the value of rank
 * max(1, ceil(p * n / 10^6)) in sorted order.  scratch holds n values. */
imb_status imb_stats_percentile(const int64_t *v, size_t n, int64_t p_ppm, int64_t *scratch,
                                        int64_t *out);

/* ---- scenario columns ------------------------------------------------------- */

/* A column: n int64 values in C memory (counts in, cents out), which
 * scenarios are built in and priced from without a Lua value each.  The Lua
 * binding owns the memory (or, for a view, keeps its owner alive) and sets
 * readonly for a view of a grid's results; the FFI binding reads and writes
 * v through this layout. */
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
 * month rounded half-up as the grid does (imb_grid_grow). */
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

/* ---- quota metering -------------------------------------------------------------- */

enum { IMB_UNLIMITED = -1 };

typedef enum imb_gtype {
  IMB_G_PRIVATE, IMB_G_PUBLIC, IMB_G_CHATROOM, IMB_G_AVCHATROOM, IMB_G_BCHATROOM, IMB_G_COMMUNITY,
  IMB_G_COUNT
} imb_gtype;

/* The limits in force, IMB_UNLIMITED where there is none.  members[] is per
 * group type; AVChatRoom and BChatRoom are normally unlimited. */
typedef struct imb_limits {
  int64_t accounts, friends_per_user, groups_per_user, av_groups, non_av_groups;
  int64_t daily_net_groups, bchatroom_daily, bchatroom_total;
  int64_t members[IMB_G_COUNT];
  /* only disbands of groups created the same day lower the daily net increase */
  int same_day_disbands;
} imb_limits;

typedef enum imb_action_kind {
  IMB_A_CREATE_ACCOUNT, IMB_A_DELETE_ACCOUNT, IMB_A_LOGIN, IMB_A_CREATE_GROUP, IMB_A_DISBAND_GROUP,
  IMB_A_JOIN, IMB_A_LEAVE, IMB_A_ADD_FRIEND, IMB_A_REMOVE_FRIEND,
  IMB_A_COUNT
} imb_action_kind;

typedef struct imb_action {
  imb_action_kind kind;
  imb_gtype gtype;   /* create: the requested type; disband/join: the group's type */
  int same_day;      /* disband: the group was created on the action's day */
  int before_created;/* disband/join/leave: the action's day is before the group's creation day */
} imb_action;

/* Counters, relative to the action's subjects: its user (or the first user of
 * a friendship), its peer, its group, its day and its month.  docs/meter.md
 * gives the key each one maps to in a shared store. */
typedef enum imb_ctr {
  IMB_C_ACCOUNT,           /* 1 if the user's account exists */
  IMB_C_ACCOUNTS,          /* net accounts of the app */
  IMB_C_GROUP,             /* 1 if the group exists */
  IMB_C_GROUPS,            /* net groups, every type */
  IMB_C_GROUPS_OF_TYPE,    /* net groups of the action's type */
  IMB_C_GROUPS_AV,         /* net AVChatRoom groups */
  IMB_C_GROUPS_NON_AV,     /* net Private, Public, ChatRoom and Community groups */
  IMB_C_DAY_CREATED,       /* groups created on the day */
  IMB_C_DAY_DISBANDED,     /* groups disbanded on the day */
  IMB_C_DAY_DISBANDED_SAME,/* ... of which created that same day */
  IMB_C_DAY_BCHAT,         /* BChatRoom groups created on the day */
  IMB_C_MEMBER,            /* 1 if the user is a member of the group */
  IMB_C_MEMBERS,           /* members of the group */
  IMB_C_USER_GROUPS,       /* groups the user has joined */
  IMB_C_FRIEND,            /* 1 if user and peer are friends */
  IMB_C_USER_FRIENDS,      /* friends of the user */
  IMB_C_PEER_FRIENDS,      /* friends of the peer */
  IMB_C_DAY_ACTIVE,        /* 1 if the user logged in on the day */
  IMB_C_DAU,               /* distinct users who logged in on the day */
  IMB_C_MONTH_ACTIVE,      /* 1 if the user logged in in the month */
  IMB_C_MAU,               /* distinct users who logged in in the month */
  IMB_C_DAY_CLOSED,        /* 1 if the day's state was released */
  IMB_C_COUNT
} imb_ctr;

typedef struct imb_counts {
  int64_t v[IMB_C_COUNT];
} imb_counts;

typedef enum imb_limit_id {
  IMB_L_NONE, IMB_L_ACCOUNTS, IMB_L_FRIENDS_PER_USER, IMB_L_GROUPS_PER_USER, IMB_L_MEMBERS_PER_GROUP,
  IMB_L_AV_GROUPS, IMB_L_NON_AV_GROUPS, IMB_L_DAILY_NET_GROUPS, IMB_L_BCHATROOM_DAILY,
  IMB_L_BCHATROOM_TOTAL, IMB_L_GROUP_EXISTS, IMB_L_GROUP_ID, IMB_L_DAY_OPEN, IMB_L_COUNT
} imb_limit_id;

/* Codes that are not Tencent's are negative; the binding names them. */
enum { IMB_R_CLOSED = -1 };

typedef struct imb_refusal {
  int code;             /* Tencent's error code: 70398, 10058, 10036, 10006, 10037, 10038, 30010,
                           10010 (no such group), 10021 (group id taken); or IMB_R_CLOSED */
  imb_limit_id limit;
  int64_t max;          /* the limit, or IMB_UNLIMITED when the refusal is not a quota */
  int64_t current;      /* the counter the limit was checked against */
  int peer;             /* friends: 1 when the peer, not the user, is at the limit */
} imb_refusal;

/* A cascade is a change over a whole set: disbanding a group removes every
 * membership (each member's IMB_C_USER_GROUPS drops by one); deleting an
 * account leaves its groups and ends its friendships. */
enum { IMB_MAX_DELTAS = 8 };
typedef struct imb_decision {
  int allowed;
  imb_refusal refusal;
  int ndeltas;
  struct { imb_ctr ctr; int64_t delta; } d[IMB_MAX_DELTAS];
  int cascade;
} imb_decision;

const char *imb_limit_name(imb_limit_id id);
const char *imb_action_name(imb_action_kind k);
const char *imb_ctr_name(imb_ctr c);
const char *imb_gtype_name(imb_gtype g);
int imb_gtype_is_av(imb_gtype g);
void imb_limits_unlimited(imb_limits *l);

/* Bit (1 << ctr) for each counter imb_meter_decide reads for this action. */
uint32_t imb_meter_reads(const imb_action *a);
/* The rule itself: never reads a counter outside imb_meter_reads(a). */
void imb_meter_decide(const imb_limits *lim, const imb_action *a, const imb_counts *c,
                              imb_decision *out);

/* ---- the in-process store ---------------------------------------------- */

typedef struct imb_meter imb_meter;

typedef enum imb_result { IMB_APPLIED, IMB_DUPLICATE, IMB_REFUSED } imb_result;

typedef struct imb_event {
  imb_action_kind kind;
  const char *a; size_t alen;    /* user; for groups: the group id */
  const char *b; size_t blen;    /* join/leave: the user; friends: the peer */
  imb_gtype gtype;               /* create_group only */
  int64_t t;                     /* Unix seconds */
  const char *id; size_t idlen;  /* optional event id (NULL: none) */
} imb_event;

enum { IMB_EDITION_MAXLEN = 63, IMB_DEDUP_DAYS = 34, IMB_ID_MAX = 1024 };
/* A login is counted only if its billing day is at most this many days before
 * the latest day the meter has counted an event for; a later one is refused
 * with IMB_R_CLOSED.  Each user keeps a bitmap of those days beside its id, so
 * DAU and MAU stay exact without a set per day.  63 days outlast any bill's
 * month plus its payment date. */
enum { IMB_LOGIN_LATE_DAYS = 63 };

imb_status imb_meter_new(int32_t offset, const char *edition, size_t elen, const imb_limits *lim,
                                 int free_edition, imb_meter **out);
void imb_meter_free(imb_meter *m);
int32_t imb_meter_offset(const imb_meter *m);

imb_status imb_meter_apply(imb_meter *m, const imb_event *ev, imb_result *res, imb_refusal *r);
/* The hot path: imb_meter_apply for a login without an event id. */
imb_status imb_meter_login(imb_meter *m, const char *user, size_t len, int64_t t, imb_result *res,
                                   imb_refusal *r);

/* n logins at once (same result as n calls, faster on large sets of users);
 * *counted: logins counted or already counted that day. */
imb_status imb_meter_logins(imb_meter *m, const char *const *users, const size_t *lens, const int64_t *ts,
                                    size_t n, size_t *counted);

/* Edition history.  A change at t applies to actions at or after t; it is
 * refused (*allowed = 0, *why set) when the month of t already has a change
 * (or the first paid activation), or when t is before the last change. */
typedef enum imb_change_refusal { IMB_CH_OK, IMB_CH_TWICE, IMB_CH_BACKWARDS, IMB_CH_SAME } imb_change_refusal;
imb_status imb_meter_change(imb_meter *m, int64_t t, const char *edition, size_t elen,
                                    const imb_limits *lim, int free_edition, imb_change_refusal *why);
int imb_meter_segments(const imb_meter *m);
/* Segment i: from_t (INT64_MIN for the first), its billing day, edition id, limits. */
void imb_meter_segment(const imb_meter *m, int i, int64_t *from_t, int32_t *day, const char **edition,
                               imb_limits *lim, int *free_edition);
/* A paid edition's first activation day when the app started on it
 * (INT32_MIN: unknown or not in the meter's life). */
void imb_meter_set_activated(imb_meter *m, int32_t day);
int32_t imb_meter_activated(const imb_meter *m);
/* Replace the limits of every segment of one edition (add-ons bought later). */
imb_status imb_meter_set_limits(imb_meter *m, int i, const imb_limits *lim);

/* Queries. */
int64_t imb_meter_accounts(const imb_meter *m);
int64_t imb_meter_dau(const imb_meter *m, int32_t day);
int64_t imb_meter_mau(const imb_meter *m, int32_t month);
void imb_meter_groups(const imb_meter *m, int64_t by_type[IMB_G_COUNT], int64_t *total);
/* Per day of the month: distinct logins and the peak net group count (the count
 * carried into the day included).  dau and groups hold 31 entries. */
void imb_meter_month(const imb_meter *m, int32_t month, int64_t *dau, int64_t *groups, int64_t *mau);
/* Counts on sets; -1 when the user or group is unknown. */
int64_t imb_meter_user_friends(const imb_meter *m, const char *u, size_t len);
int64_t imb_meter_user_groups(const imb_meter *m, const char *u, size_t len);
int64_t imb_meter_group_members(const imb_meter *m, const char *g, size_t len, imb_gtype *type);
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

/* Persistence (meter_file.c).  `meta` is opaque bytes the caller stores with
 * the state (the Lua layer keeps its book name and add-ons there). */
imb_status imb_meter_save(const imb_meter *m, const char *path, const char *meta, size_t metalen,
                                  int64_t crash_after);
imb_status imb_meter_load(const char *path, imb_meter **out, char **meta, size_t *metalen,
                                  char *why, size_t whylen);

]==]
return true
