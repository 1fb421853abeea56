"""`syndicator nginx-config`: an nginx server block serving the published files as the built-in server does.

With publish.target = "folder", nginx sends the public files from disk with the same media types,
Cache-Control, gzip (gzip_static with the .gz copies the publisher writes when serve.gzip_files is on) and
conditional requests. With an s3:// target, nginx proxies the public files to the bucket: each object already
carries its Content-Type, Cache-Control and (for a .gz copy) Content-Encoding, set by the writer from the same
rules (publish/media.py); nginx asks for the .gz copy when the reader accepts gzip, falls back to the plain
object, answers 404 for anything the bucket does not have, hides S3's own headers and adds ours. Either way,
what needs the application (language redirects, partner feeds, /healthz, /metrics, /status) is proxied to
the built-in server.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from syndicator.config import Config
from syndicator.publish.media import (
    ARCHIVE_DOCUMENT,
    IMAGE_TYPES,
    MEDIA_CACHE_CONTROL,
    MEDIA_FILE,
    MEDIA_TYPES,
    NAMED_TYPES,
)
from syndicator.publish.writer import split_target, target_kind
from syndicator.serve.headers import CSP, FEED_POLICY, NOSNIFF, PAGE_POLICY

# Media type → extensions, as publish/media.py names them (nginx's `types` block is keyed the other way).
_TYPES: dict[str, str] = {}
for _ext, _media in MEDIA_TYPES.items():
    _TYPES[_media] = f"{_TYPES[_media]} {_ext[1:]}" if _media in _TYPES else _ext[1:]
_NAMED = NAMED_TYPES
_TEXT_TYPES = [t for t in (*_TYPES, "application/feed+json") if t != "text/html"]
# S3's own response headers, which say nothing a reader needs (request ids, our content hash, encryption).
_S3_HEADERS = (
    "x-amz-id-2",
    "x-amz-request-id",
    "x-amz-version-id",
    "x-amz-meta-syndicator-sha256",
    "x-amz-server-side-encryption",
    "x-amz-expiration",
    "x-amz-storage-class",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc64nvme",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-content-sha256",
    "x-amzn-requestid",
    "Set-Cookie",
)


def _quote(path: str) -> str:
    """A path as an nginx string argument."""
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _headers(cache_control: str, policy: str = "", indent: str = "        ") -> str:
    """add_header lines of a location: a location with any add_header inherits none, so each lists all."""
    lines = [f'add_header Cache-Control "{cache_control}";', f"add_header {NOSNIFF[0]} {NOSNIFF[1]} always;"]
    if policy:
        lines.append(f'add_header {CSP} "{policy}";')
    return "".join(f"{indent}{line}\n" for line in lines).rstrip("\n")


def nginx_config(config: Config, listen: str = "", upstream: str = "") -> str:
    """The server block text, for the folder or the bucket publish.target names."""
    if target_kind(config.publish.target) == "s3":
        return _bucket_config(config, listen, upstream)
    return _folder_config(config, listen, upstream)


def _archive_regex(prefix: str) -> str:
    """An nginx location regex matching RFC 5005 archive documents under prefix (publish/media.py's rule)."""
    rule = ARCHIVE_DOCUMENT.pattern.lstrip("^").removesuffix("$")
    return f"^{prefix}{rule}$"


def _media_location(prefix: str) -> str:
    """The location of published images (publish/media.py's MEDIA_FILE rule): their own types, a year's cache.
    Quoted: nginx requires it of a regex holding braces."""
    rule = MEDIA_FILE.pattern.lstrip("^").removesuffix("\\Z")
    types = " ".join(f"{media} {ext[1:]};" for ext, media in IMAGE_TYPES.items())
    return f"""\
        # Images Syndicator publishes, named by their content: a name never changes meaning.
        location ~ "^{prefix}{rule}$" {{
            types {{ {types} }}
            default_type application/octet-stream;
{_headers(MEDIA_CACHE_CONTROL, "", " " * 12)}
        }}"""


def _application(prefix: str, upstream: str) -> str:
    """The locations nginx hands to the built-in server: partner feeds, redirects, health and statistics;
    and `/` (and the prefix without its slash), redirected to the landing page as the built-in server does."""
    roots = ("/", prefix.rstrip("/")) if prefix != "/" else ()
    landing = "".join(f"    location = {root} {{ return 302 {prefix}; }}\n" for root in roots)
    proxied = "\n".join(
        f"    location = {path} {{ proxy_pass {upstream}; }}"
        for path in (f"{prefix}feed", f"{prefix}feed.atom", f"{prefix}feed.json", "/healthz")
    )
    return f"""\
{landing}    location ^~ {prefix}p/ {{
        proxy_pass {upstream};
        proxy_set_header Host $host;
    }}
{proxied}
    location = /metrics {{
        allow 127.0.0.1;
        deny all;
        proxy_pass {upstream};
    }}
    location = /status {{
        allow 127.0.0.1;
        deny all;
        proxy_pass {upstream};
    }}
    location / {{ return 404; }}"""


def _limits(config: Config) -> str:
    serve = config.serve
    return f"""\
    # Slow and idle clients are closed as by the built-in server (serve.header_timeout, keepalive_timeout,
    # send_timeout); nginx's default large_client_header_buffers (4 8k) bound the headers.
    client_header_timeout {int(serve.header_timeout.total_seconds())}s;
    keepalive_timeout {int(serve.keepalive_timeout.total_seconds())}s;
    send_timeout {int(serve.send_timeout.total_seconds())}s;
    # nosniff on every response, nginx's own errors too; it replaces the built-in server's copy when proxying.
    add_header {NOSNIFF[0]} {NOSNIFF[1]} always;
    proxy_hide_header {NOSNIFF[0]};"""


def _folder_config(config: Config, listen: str = "", upstream: str = "") -> str:
    serve = config.serve
    listen = listen or "80"
    upstream = upstream or f"http://{serve.host}:{serve.port}"
    prefix = serve.path
    server_name = urlsplit(config.site.feeds_url).hostname or "_"
    max_age = int(serve.max_age.total_seconds())
    archive_cache_control = f"public, max-age={int(serve.archive_max_age.total_seconds())}"
    feeds_dir = str(config.publish.feeds_dir).rstrip("/") + "/"
    types = "\n".join(f"            {media} {ext};" for media, ext in _TYPES.items())
    cache_control = f"public, max-age={max_age}"
    named = "\n".join(
        f"        location ~ /{name.replace('.', '[.]')}$ {{\n            types {{ }} default_type {media};\n"
        + (_headers(cache_control, FEED_POLICY, " " * 12) + "\n" if media != "application/feed+json" else "")
        + "        }"
        for name, media in _NAMED.items()
    )
    gz_note = (
        "serve.gzip_files is on: the publisher writes .gz copies, sent as they are (gzip_static)."
        if serve.gzip_files
        else "Set serve.gzip_files = true so the publisher writes .gz copies for gzip_static (much faster)."
    )
    return f"""\
# Syndicator feeds: generated by `syndicator nginx-config` from {config.file.name}.
# Put it inside the http {{}} block. Public files come straight from {feeds_dir};
# language redirects, partner feeds, /healthz, /metrics and /status go to the built-in server at {upstream}.
# {gz_note}
server {{
    listen {listen};
    server_name {server_name};
{_limits(config)}

    location {prefix} {{
        alias {_quote(feeds_dir)};
        disable_symlinks on from=$document_root;  # nothing outside the feeds folder
        types {{
{types}
        }}
        default_type application/octet-stream;
        charset utf-8;
        charset_types {" ".join(["text/html", *_TEXT_TYPES])};
        etag on;
        if_modified_since before;
{_headers(cache_control)}
        gzip on;
        gzip_static on;
        gzip_vary on;
        gzip_comp_level 6;
        gzip_min_length 256;
        gzip_types {" ".join(_TEXT_TYPES)};
        # Hidden names are the publisher's temp files.
        location ~ /[.] {{ return 404; }}
{_media_location(prefix)}
        # RFC 5005 archive pages: serve.archive_max_age (before the feed names: the first regex wins).
        location ~ {_archive_regex(prefix)} {{
            types {{ }} default_type application/xml;
            location ~ /rss[.]xml$ {{
                types {{ }} default_type application/rss+xml;
{_headers(archive_cache_control, FEED_POLICY, " " * 16)}
            }}
            location ~ /atom[.]xml$ {{
                types {{ }} default_type application/atom+xml;
{_headers(archive_cache_control, FEED_POLICY, " " * 16)}
            }}
            location ~ /feed[.]json$ {{
                types {{ }} default_type application/feed+json;
{_headers(archive_cache_control, "", " " * 16)}
            }}
        }}
{named}
        location ~ [.]html$ {{
{_headers(cache_control, PAGE_POLICY, " " * 12)}
        }}
    }}
{_application(prefix, upstream)}
}}
"""


def _origin(config: Config) -> tuple[str, str]:
    """(origin URL, path of the prefix on it) of the bucket: path-style on a custom endpoint (MinIO, Ceph),
    virtual-hosted on AWS (path-style there only for bucket names with dots, which TLS names cannot match)."""
    bucket, prefix = split_target(config.publish.target)
    folder = f"/{prefix}" if prefix else ""
    endpoint = config.publish.s3_endpoint
    if endpoint:
        return endpoint, f"/{bucket}{folder}"
    region = config.publish.s3_region or "us-east-1"
    if "." in bucket:
        return f"https://s3.{region}.amazonaws.com", f"/{bucket}{folder}"
    return f"https://{bucket}.s3.{region}.amazonaws.com", folder


def _bucket_config(config: Config, listen: str = "", upstream: str = "") -> str:
    """The block for an s3:// target: public files proxied to the bucket, the rest to the built-in server."""
    serve = config.serve
    listen = listen or "80"
    upstream = upstream or f"http://{serve.host}:{serve.port}"
    prefix = serve.path
    server_name = urlsplit(config.site.feeds_url).hostname or "_"
    origin, folder = _origin(config)
    host = urlsplit(origin).netloc
    gz = serve.gzip_files
    hidden = "\n".join(f"        proxy_hide_header {name};" for name in _S3_HEADERS)
    tls = "        proxy_ssl_server_name on;\n" if origin.startswith("https:") else ""
    common = f"""\
        proxy_pass {origin};
        proxy_set_header Host {host};
        # The bucket must see no reader's credentials or cookies, and answer conditional requests itself.
        proxy_set_header Authorization "";
        proxy_set_header Cookie "";
        proxy_http_version 1.1;
        proxy_set_header Connection "";
{tls}{hidden}
        proxy_intercept_errors on;
        add_header {NOSNIFF[0]} {NOSNIFF[1]} always;
        add_header {CSP} $syndicator_csp;"""
    vary = "        add_header Vary Accept-Encoding;\n" if gz else ""
    gz_map = (
        """\
# serve.gzip_files is on: the writer stored a .gz copy of each file of 256 bytes or more, with the file's
# Content-Type and Content-Encoding: gzip. A reader that accepts gzip gets it; the plain object otherwise.
map $http_accept_encoding $syndicator_gz {
    default "";
    "~*gzip\\s*;\\s*q\\s*=\\s*0(\\.0*)?(\\s|,|$)" "";
    "~*gzip" ".gz";
}
"""
        if gz
        else "# Set serve.gzip_files = true so the writer stores .gz copies this block can send (CDNs compress themselves).\n"
        'map $http_accept_encoding $syndicator_gz { default ""; }\n'
    )
    return f"""\
# Syndicator feeds: generated by `syndicator nginx-config` from {config.file.name}.
# Put it inside the http {{}} block. Public files come from the bucket {config.publish.target} at {origin}
# (anonymous GET on the prefix: a bucket policy, see docs/scale-out.md); language redirects, partner feeds,
# /healthz, /metrics and /status go to the built-in server at {upstream}.
# Each object carries its own Content-Type, Cache-Control and Content-Encoding (set when it was published).
{gz_map}map $uri $syndicator_csp {{
    default "";
    "~[.]html([.]gz)?$" "{PAGE_POLICY}";
    "~/(rss|atom)[.]xml([.]gz)?$" "{FEED_POLICY}";
}}
server {{
    listen {listen};
    server_name {server_name};
{_limits(config)}
    recursive_error_pages on;

    location ^~ {prefix} {{
        if ($request_method !~ ^(GET|HEAD)$) {{ return 405; }}
        # Hidden names and .gz copies are not URLs of their own (as with the built-in server).
        location ~ /[.] {{ return 404; }}
        location ~ [.]gz$ {{ return 404; }}
        # A folder shows its index.html (the landing page at the root), never a listing.
        rewrite ^{prefix}(.*/)?$ {prefix}$1index.html;
        # A named capture: evaluating the map's regex would overwrite $1.
        rewrite ^{prefix}(?<syndicator_rel>.*)$ {folder}/$syndicator_rel$syndicator_gz break;
{common}
{vary}        error_page 403 404 = @syndicator_plain;
    }}
    location @syndicator_plain {{
        # The .gz copy was not there (files under 256 bytes have none): the plain object, else 404.
        if ($syndicator_gz = "") {{ return 404; }}
        rewrite ^(.*)[.]gz$ $1 break;
{common}
{vary}        error_page 403 404 = @syndicator_missing;
    }}
    location @syndicator_missing {{ return 404; }}
{_application(prefix, upstream)}
}}
"""
