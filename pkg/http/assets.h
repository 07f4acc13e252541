/* Assets embedded by assets.S (NUL-terminated; the _len excludes the NUL). */
#ifndef HAAT_PKG_HTTP_ASSETS_H
#define HAAT_PKG_HTTP_ASSETS_H

extern const char http_asset_openapi_json[];
extern const unsigned long http_asset_openapi_json_len;
extern const char http_asset_redoc_js[];
extern const unsigned long http_asset_redoc_js_len;
extern const char http_asset_favicon_svg[];
extern const unsigned long http_asset_favicon_svg_len;

#endif
