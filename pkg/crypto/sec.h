/* sec — haat's security primitives over libsodium (which owns the crypto_ prefix).
 *
 * Keys. sec_init(secret) keeps the bytes of HAAT_JWT_SECRET (the HS256 key, as the contract
 * says) and derives independent subkeys from it (BLAKE2b of the secret, then crypto_kdf with
 * context "haatsec1"): one for sealing (XChaCha20-Poly1305) and one for keyed MACs
 * (HMAC-SHA-256). Key material lives in sodium_malloc'd memory that is read-only after
 * sec_init. Every other function needs sec_init to have succeeded first; all are thread-safe
 * after that (sec_init itself is not: call it at start-up, before threads).
 *
 * Access tokens: JWT, alg pinned to HS256 (any other alg, "none" included, is refused), typ
 * optional ("JWT" when present), no "crit", strict unpadded base64url, constant-time
 * signature comparison, exp required (an integer, strictly after now), nbf/iat honoured.
 *
 * Passwords: Argon2id (crypto_pwhash_str) at libsodium's INTERACTIVE limits (64 MiB, 2
 * passes), on a small bounded pool of threads so a burst of logins can neither eat all the
 * memory nor block every HTTP thread (see sec_pwpool_*). */
#ifndef HAAT_PKG_CRYPTO_SEC_H
#define HAAT_PKG_CRYPTO_SEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEC_SECRET_MIN 32   /* bytes of HAAT_JWT_SECRET */
#define SEC_HEX_LEN    65   /* a SHA-256 / HMAC-SHA-256 as hex + NUL */
#define SEC_PWHASH_LEN 128  /* crypto_pwhash_STRBYTES: an Argon2id string + NUL */
#define SEC_JWT_MAX    4096 /* longer tokens are refused before any work */
/* Buffer size for sec_random_token(out, bytes): unpadded base64url + NUL. */
#define SEC_TOKEN_LEN(bytes) ((((bytes)*4u) + 2u) / 3u + 1u)

/* Keeps secret (>= SEC_SECRET_MIN bytes, NUL-terminated) and derives the subkeys. Returns 0,
 * or -1 when the secret is too short or libsodium cannot start. May be called again (tests):
 * the previous keys are wiped. */
int sec_init(const char *secret);
/* Wipes and frees the keys. */
void sec_cleanup(void);

/* --- JWT HS256 --- */

/* Signs claims (borrowed; a JSON object) with the bytes of the secret. Returns a heap string
 * "<header>.<payload>.<signature>" the caller frees, or NULL (not initialised, not an object). */
char *sec_jwt_sign(const json_t *claims);
/* Verifies token at unix time now. Returns 0 and *claims (new reference) when the token is a
 * well-formed HS256 JWT signed with our key whose exp is after now (and nbf, if any, not after
 * now); otherwise -1 and *claims = NULL. Never reads the payload before the signature holds. */
int sec_jwt_verify(const char *token, int64_t now, json_t **claims);

/* --- sealing (authenticated encryption) --- */

/* Encrypts plaintext (NUL-terminated) under the sealing subkey with a random 24-byte nonce:
 * returns base64url(nonce || ciphertext || tag) as a heap string the caller frees. */
char *sec_seal(const char *plaintext);
/* The plaintext of a sec_seal() output (heap string the caller frees), or NULL when sealed
 * is malformed, was tampered with, or was sealed under another key. */
char *sec_open(const char *sealed);

/* --- hashes, MACs, randomness --- */

/* Hex SHA-256 of token (an opaque refresh token: high-entropy, so a plain hash suffices). */
void sec_hash_token(const char *token, char out[SEC_HEX_LEN]);
/* Hex HMAC-SHA-256 under the MAC subkey over domain || 0x00 || msg: a keyed, domain-separated
 * fingerprint for low-entropy secrets (OTP codes) and personal data used as lookup keys. */
void sec_mac_hex(const char *domain, const char *msg, char out[SEC_HEX_LEN]);
/* bytes random bytes as unpadded base64url into out (SEC_TOKEN_LEN(bytes) chars). */
void sec_random_token(char *out, size_t bytes);
/* n uniformly random decimal digits into out (n + 1 chars, NUL-terminated). */
void sec_random_digits(char *out, size_t n);
/* Constant-time equality of two NUL-terminated strings (length may leak, content does not). */
bool sec_streq(const char *a, const char *b);

/* --- passwords (synchronous: for the pool threads and for tests) --- */

/* Argon2id string of password into out. Returns 0, or -1 (out of memory). */
int sec_password_hash(const char *password, char out[SEC_PWHASH_LEN]);
/* 0 when password matches hash, -1 otherwise (also for a malformed hash). */
int sec_password_verify(const char *hash, const char *password);
/* True when hash was made with other limits than the current ones (rehash after login). */
bool sec_password_needs_rehash(const char *hash);
/* A fixed hash of a random password at the current limits, made once: verifying against it
 * takes as long as a real verification, so unknown users cost the same as wrong passwords. */
const char *sec_password_dummy_hash(void);

/* --- the bounded password pool ---
 * A job is caller-owned memory that stays valid until its done() callback, which runs on a
 * pool thread (which may use its own db_conn()); done() owns the job from then on. */
enum sec_pw_op {
    SEC_PW_HASH,   /* hash password into out */
    SEC_PW_VERIFY, /* verify password against hash (NULL: against the dummy hash) */
};

enum sec_pw_result {
    SEC_PW_OK,        /* HASH: out holds the hash; VERIFY: the password matches */
    SEC_PW_MISMATCH,  /* VERIFY: it does not (always so against the dummy hash) */
    SEC_PW_ERROR,     /* out of memory */
    SEC_PW_CANCELLED, /* the pool stopped before the job ran: nothing was computed */
};

struct sec_pwjob {
    enum sec_pw_op op;
    const char *password; /* borrowed until done() */
    const char *hash;     /* VERIFY: borrowed until done(); NULL = unknown user */
    void (*done)(struct sec_pwjob *job);
    /* results */
    enum sec_pw_result result;
    bool needs_rehash;        /* VERIFY with OK: the stored hash uses older limits */
    char out[SEC_PWHASH_LEN]; /* HASH with OK */
    struct sec_pwjob *next_;  /* private to the pool */
};

/* Starts threads (1..16) workers sharing a queue of at most queue (1..4096) waiting jobs.
 * Returns 0, or -1 (bad numbers, already running, thread creation failed). */
int sec_pwpool_start(int threads, int queue);
/* Queues job. Returns 0 (done() will be called exactly once), or -1 when the queue is full or
 * the pool is not running: done() is then never called and the caller answers 503. */
int sec_pwpool_submit(struct sec_pwjob *job);
/* Stops the pool: jobs still queued complete with SEC_PW_CANCELLED, running ones finish,
 * threads are joined. Later submits fail. Safe to call when not running. */
void sec_pwpool_stop(void);
/* Jobs waiting in the queue (for metrics and tests). */
int sec_pwpool_queued(void);

#endif
