/**
 * WPT audiences on the caller's side (draft-ietf-wimse-wpt-02 §2 `aud`: "the HTTP target URI … without query or
 * fragment parts. However, there may be some normalization, rewriting or other process that requires the
 * audience to be set to a deployment-specific value").
 *
 * Portcullis checks `aud` against the route's audience: `auth.wit.audience` when configured, else `publicUrl` +
 * the route's mount path (never the request's `Host`). The default here, the target URI, equals that for a
 * request to the mount itself (`https://gw/mcp`). For a request below the mount (`https://gw/a2a/tasks/1`), or a
 * route with a configured audience, send the route's value: `mountAudience([...])` or a function of your own.
 * (The gateway wiring in progress also accepts the request's own URL on `publicUrl`; do not rely on that for
 * other recipients.)
 */

/** The target URI without query and fragment: `origin` + `pathname` (URL-normalised: lowercase host, no default port). */
export function targetAudience(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * An audience function for gateway mounts: the longest of `mounts` (absolute URLs such as
 * `http://127.0.0.1:8787/mcp`) that the request URL equals or lies below at a `/` boundary, else the target
 * URI. Mount URLs are normalised as URLs; a trailing `/` (other than the root) is dropped.
 */
export function mountAudience(mounts: readonly string[]): (url: URL) => string {
  const bases = mounts.map((mount) => {
    const parsed = new URL(mount);
    if (parsed.search || parsed.hash) throw new TypeError('a mount URL has no query or fragment');
    const path = parsed.pathname.length > 1 ? parsed.pathname.replace(/\/+$/, '') : '/';
    return { origin: parsed.origin, path, audience: path === '/' ? `${parsed.origin}/` : `${parsed.origin}${path}` };
  }).sort((a, b) => b.path.length - a.path.length);
  return (url) => {
    for (const base of bases) {
      if (base.origin !== url.origin) continue;
      if (base.path === '/' || url.pathname === base.path || url.pathname.startsWith(`${base.path}/`)) return base.audience;
    }
    return targetAudience(url);
  };
}
