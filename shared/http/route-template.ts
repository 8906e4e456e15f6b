const templates = new WeakMap<RegExp, string>();

/**
 * A route's pattern as a template for logs and metric labels: `^\/v2\/(?<name>.+)\/tags\/list$`
 * becomes `/v2/{name}/tags/list`. There are as many templates as routes, so labels stay
 * bounded, and repository names or digests never reach a log's route field or a label.
 */
export function routeTemplate(pattern: RegExp): string {
  let template = templates.get(pattern);
  if (template === undefined) {
    template = pattern.source
      .replace(/^\^|\$$/g, "")
      .replace(/\(\?<(\w+)>(?:\[[^\]]*\]|[^()[\]])*\)/g, "{$1}")
      .replace(/\\\//g, "/")
      .replace(/\/\?$/, "/");
    // a pattern this cannot read still gets one fixed name, never the path
    if (/[\\^$()[\]?*+|]/.test(template)) template = "other";
    templates.set(pattern, template);
  }
  return template;
}
