/*
 * dkg_internal.h — what the DKG module's files share: polynomial and
 * commitment arithmetic (poly.c, on the BLS12-381 internals of
 * src/crypto/bls12_381), the participants of a network (ctx.c), the set of
 * held messages and the deterministic evaluation of a set into a result
 * (view.c), used alike by the state machine (sm.c) and the transcript
 * verifier (transcript.c).
 */
#ifndef CTNG_DKG_INTERNAL_H
#define CTNG_DKG_INTERNAL_H

#include "crypto/bls12_381/curve.h"
#include "ctng/dkg.h"

#define DKG_DOMAIN        "CTNG-DKG-V1"
#define DKG_SESSION_LABEL "CTNG-DKG-V1 session"
#define DKG_SHARE_LABEL   "CTNG-DKG-V1 share"
#define DKG_SEED_DST      "CTNG-DKG-V1 test coefficients"

/* ------------------------------------------------------------- poly.c */

/* a[0..t-1]: a0 (when resharing: the dealer's previous share) or a
 * uniformly random non-zero scalar, then random ones; from the CSPRNG, or
 * (tests) derived from seed with expand_message_xmd. */
int dkg_coeffs(fr *a, uint32_t t, const fr *a0, const uint8_t *seed, size_t seed_len,
               uint32_t seed_ctr, ctng_err *err);
/* f(x) by Horner (constant time in the coefficients). */
void dkg_poly_eval(fr *out, const fr *a, uint32_t t, uint32_t x);
/* sum_k x^k C_k by Horner on public points. */
void dkg_commit_eval(g2 *out, const g2 *c, uint32_t t, uint32_t x);
/* s * G2 == sum_k x^k C_k (Feldman's check of one share). */
bool dkg_share_ok(const g2 *c, uint32_t t, uint32_t x, const fr *s);
/* Lagrange coefficients at 0 for the distinct non-zero points xs[0..n-1]. */
void dkg_lagrange0(fr *lam, const uint32_t *xs, size_t n);
/* Compresses n points with one shared inversion. */
int dkg_compress_many(uint8_t (*out)[96], const g2 *pts, size_t n);

/* -------------------------------------------------------------- pok.c */

/* The proof of knowledge of a0 (C_0 = a0*G2, compressed c0) of `dealer`'s
 * deal in `session`: R (compressed G2) and z. Deterministic. */
int dkg_pok_prove(uint8_t r[96], uint8_t z[32], const fr *a0, const uint8_t c0[96],
                  const uint8_t session[32], const char *dealer, ctng_err *err);
/* Checks it against the decoded C_0 (c0) and its encoding (c0c). */
bool dkg_pok_ok(const g2 *c0, const uint8_t c0c[96], const uint8_t r[96], const uint8_t z[32],
                const uint8_t session[32], const char *dealer);

/* -------------------------------------------------------------- ctx.c */

typedef struct dkg_party {
	char id[CTNG_ID_MAX + 1];
	uint32_t index; /* x of the polynomials: bls_id (a resharing dealer: its previous one) */
	const ctng_sig_key *key;
	uint8_t dkg_key[32]; /* recipients: X25519 transport key */
	bool has_c0;         /* resharing dealers: C_0 must be their previous share key */
	uint8_t c0[96];
} dkg_party;

struct ctng_dkg_ctx {
	const ctng_network *net;
	uint8_t session[32];
	uint32_t t;        /* threshold of the new sharing (commitments per deal) */
	uint32_t min_qual; /* qualified dealers needed */
	bool reshare;
	dkg_party *dealers;
	size_t nd;
	dkg_party *recips; /* every gossiper, bls_id order */
	size_t nr;
};

int dkg_dealer_index(const ctng_dkg_ctx *c, const char *id); /* -1 if none */
int dkg_recip_index(const ctng_dkg_ctx *c, const char *id);
/* info for sealing dealer d's share to recipient r (salt is the session). */
int dkg_share_info(const ctng_dkg_ctx *c, size_t d, size_t r, ctng_buf *out);

/* ------------------------------------------------------------- view.c */

/* A checked message as held by a participant or a transcript. */
typedef struct dkg_held {
	ctng_dkg_msg m;
	uint8_t hash[32];
	char *json; /* canonical text (owned) */
	size_t len;
	g2 *com; /* deals: the decoded commitments */
	int di;  /* dealer index of sender (deal, justification) or -1 */
	int ri;  /* recipient index of sender (response) or of `to` (justification) */
} dkg_held;

/* Parses and checks (ctng_dkg_msg_check) json into a new held message. */
int dkg_held_new(const ctng_dkg_ctx *c, const char *json, size_t len, dkg_held **out,
                 ctng_err *err);
/* Wraps an already checked message m (taken) signed by self. */
int dkg_held_from_msg(const ctng_dkg_ctx *c, ctng_dkg_msg *m, dkg_held **out, ctng_err *err);
void dkg_held_free(dkg_held *h);

#define DKG_DEAL_VERSIONS 2 /* a second one proves equivocation; more are refused */
#define DKG_RESP_VERSIONS 4
#define DKG_JUST_VERSIONS 2

typedef struct dkg_view {
	const ctng_dkg_ctx *ctx;
	dkg_held **all; /* arrival order, owned */
	size_t n_all, cap_all;
	dkg_held **deal; /* [d * DKG_DEAL_VERSIONS + k] */
	dkg_held **resp; /* [r * DKG_RESP_VERSIONS + k] */
	dkg_held **just; /* [(d * nr + r) * DKG_JUST_VERSIONS + k] */
} dkg_view;

int dkg_view_init(dkg_view *v, const ctng_dkg_ctx *c, ctng_err *err);
void dkg_view_free(dkg_view *v);
/* Adds h. Returns CTNG_DKG_NEW (h now owned by the view; *conflict says
 * whether it is a second version of something held), CTNG_DKG_DUPLICATE
 * (same hash held: caller still owns h), or CTNG_ERANGE (too many versions). */
int dkg_view_add(dkg_view *v, dkg_held *h, bool *conflict, ctng_err *err);
const dkg_held *dkg_view_find(const dkg_view *v, const uint8_t hash[32]);
size_t dkg_view_n_deals(const dkg_view *v, size_t d);
const dkg_held *dkg_view_deal(const dkg_view *v, size_t d, size_t k);
size_t dkg_view_n_resps(const dkg_view *v, size_t r);
size_t dkg_view_n_justs(const dkg_view *v, size_t d, size_t r);
const dkg_held *dkg_view_just(const dkg_view *v, size_t d, size_t r, size_t k);
/* Does any response version of recipient r complain about dealer d? */
bool dkg_view_complains(const dkg_view *v, size_t d, size_t r);

/* The deterministic result of the held messages (docs/dkg.md §5). qual
 * (nd entries) gets the qualified dealers. CTNG_EVERIFY with the reason when
 * too few dealers qualify (out then holds the disqualifications). */
int dkg_view_evaluate(const dkg_view *v, ctng_dkg_outcome *out, bool *qual, ctng_err *err);

/* ------------------------------------------------------- transcript.c */

/* The transcript JSON of a view and its outcome (NULL outcome: failed, with
 * failure text). */
int dkg_transcript_encode(const dkg_view *v, const ctng_dkg_outcome *o, const char *failure,
                          char **json, size_t *len, ctng_err *err);

/* ------------------------------------------------------------ store.c */

struct ctng_store;
int dkg_store_message(struct ctng_store *st, const uint8_t session[32], const uint8_t hash[32],
                      ctng_dkg_type type, const char *sender, const char *json, ctng_err *err);
int dkg_store_state(struct ctng_store *st, const uint8_t session[32], const char *blob,
                    ctng_err *err);
/* The saved state of a session (*state NULL if none, else malloc'd) and
 * each stored message in arrival order. */
int dkg_load(struct ctng_store *st, const uint8_t session[32], char **state,
             int (*each)(const char *json, size_t len, void *arg), void *arg, ctng_err *err);

#endif
