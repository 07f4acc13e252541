/* Static assets compiled into the binary so the server needs no files at run time:
 * the OpenAPI document (JSON, generated from docs/openapi.yaml) and the Redoc bundle that
 * renders /docs with no internet. Paths are relative to the repository root (where make runs). */
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
ASSET(http_asset_redoc_js, "build/vendor/redoc.standalone.js")

    .section .note.GNU-stack,"",@progbits
