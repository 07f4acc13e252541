/* Static assets compiled into the binary so the server needs no files at run time:
 * the OpenAPI document (JSON, generated from docs/openapi.yaml), the Redoc bundle that
 * renders /docs with no internet (made offline by the Makefile: its one remote image points
 * at our favicon) and the favicon. Paths are relative to the repository root (where make runs). */
#define ASSET(name, path)              \
    .section .rodata;                  \
    .global name;                      \
    .type name, @object;               \
    .balign 16;                        \
name:                                  \
    .incbin path;                      \
name##_end:                            \
    .byte 0;                           \
    .global name##_len;                \
    .balign 8;                         \
name##_len:                            \
    .quad name##_end - name;

ASSET(http_asset_openapi_json, "build/gen/openapi.json")
ASSET(http_asset_redoc_js, "build/gen/redoc.standalone.js")
ASSET(http_asset_favicon_svg, "docs/assets/favicon.svg")

    .section .note.GNU-stack,"",@progbits
