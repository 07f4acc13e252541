/* haat — a C2C marketplace backend. One binary: serve | worker | migrate | admin | version. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/app/app.h"
#include "internal/app/version.h"
#include "pkg/config/config.h"
#include "pkg/log/log.h"

/* The commands and options here are, word for word, those of README.md "The binary"
 * (test_platform checks it). */
static const char usage[] =
    "usage: haat [--config FILE] COMMAND\n"
    "\n"
    "commands:\n"
    "  serve                 run the HTTP API and the background workers (HAAT_WORKERS=on)\n"
    "  worker                run only the background workers\n"
    "  migrate               apply pending database migrations and exit\n"
    "  admin grant EMAIL     give the admin role to the account with that email\n"
    "  admin revoke EMAIL    take the admin role from the account with that email\n"
    "  admin suspend EMAIL --reason TEXT\n"
    "                        suspend that account (its tokens stop within 2 s)\n"
    "  admin failed-refunds  list the refunds the provider kept refusing (JSON lines)\n"
    "  admin seal-accounts   seal bank account numbers still stored in the clear (once)\n"
    "  version               print the version and exit\n"
    "\n"
    "options:\n"
    "  --config FILE         settings file (default configs/dev.json); the environment overrides "
    "it\n"
    "  -h, --help            show this help\n"
    "\n"
    "Settings are listed in README.md (DATABASE_URL, HAAT_HTTP_ADDR, HAAT_JWT_SECRET, ...).\n";

struct args {
    const char *config;
    const char *command;
    int nrest; /* words after the command (admin's arguments) */
    char **rest;
};

static bool known_command(const char *cmd)
{
    static const char *const commands[] = {"serve", "worker", "migrate", "version", "admin"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i]) == 0)
            return true;
    return false;
}

/* Returns 0, or the exit code to stop with. */
static int parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
            strcmp(argv[i], "help") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            a->config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            a->config = argv[i] + 9;
        } else if (argv[i][0] != '-' && !a->command) {
            a->command = argv[i];
            if (strcmp(a->command, "admin") == 0) {
                a->rest = argv + i + 1;
                a->nrest = argc - i - 1;
                break;
            }
        } else {
            fprintf(stderr, "haat: unknown argument %s\n%s", argv[i], usage);
            return 2;
        }
    }
    if (!a->command) {
        fputs(usage, stderr);
        return 2;
    }
    if (!known_command(a->command)) {
        fprintf(stderr, "haat: unknown command %s\n%s", a->command, usage);
        return 2;
    }
    return 0;
}

static int run(const struct args *a, const struct cfg *c)
{
    const char *command = a->command;
    if (strcmp(command, "admin") == 0)
        return app_admin(c, a->nrest, a->rest);
    if (strcmp(command, "serve") == 0)
        return app_serve(c);
    if (strcmp(command, "worker") == 0)
        return app_worker(c);
    if (strcmp(command, "migrate") == 0)
        return app_migrate(c);
    fprintf(stderr, "haat: unknown command %s\n%s", command, usage);
    return 2;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (strcmp(a.command, "version") == 0) {
        printf("haat %s\n", app_version());
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "haat: libsodium failed to initialise\n");
        return 1;
    }
    struct cfg c;
    char err[CFG_ERR_LEN];
    if (cfg_load(&c, a.config, err) != 0) {
        fprintf(stderr, "haat: invalid configuration: %s\n", err);
        return 2;
    }
    log_init(c.log_level, c.log_format);
    rc = run(&a, &c);
    cfg_cleanup(&c);
    return rc;
}
