// The lists the dashboard's forms offer (optimizers and the settings each
// takes, synthetic datasets, LR schedules), read from the server's OpenAPI document (/openapi.json), which
// is generated from the API's own schemas: the dashboard keeps no copy of
// them. Pure: `listsFromOpenApi` takes the parsed document.

/** The `enum` of a JSON schema property, or of the first `oneOf`/`anyOf` member with one. */
function enumOf(schema) {
  if (!schema || typeof schema !== 'object') return null;
  if (Array.isArray(schema.enum)) return schema.enum;
  for (const alt of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) {
    const e = enumOf(alt);
    if (e) return e;
  }
  return null;
}

/** The member of a union schema whose `kind` property is `kind`. */
function memberOfKind(schema, kind) {
  return [...(schema?.oneOf ?? []), ...(schema?.anyOf ?? [])].find(
    (m) => m?.properties?.kind?.const === kind || enumOf(m?.properties?.kind)?.includes(kind),
  );
}

/**
 * { optimizers, datasets, schedules, optimizerSettings } from the OpenAPI
 * document: the Optimizer schema's names and its x-settings (name -> the
 * settings it takes), the synthetic Data's names, the LrSuggestRequest's schedules.
 * Throws when the document lacks one (the form cannot be offered without it).
 */
export function listsFromOpenApi(doc) {
  const schemas = doc?.components?.schemas ?? {};
  const lists = {
    optimizers: enumOf(schemas.Optimizer?.properties?.name),
    datasets: enumOf(memberOfKind(schemas.Data, 'synthetic')?.properties?.name),
    schedules: enumOf(schemas.LrSuggestRequest?.properties?.schedule),
  };
  for (const [k, v] of Object.entries(lists))
    if (!v?.length) throw new Error(`the API's OpenAPI document lists no ${k}`);
  // The settings each optimizer takes, as the API checks them (the Optimizer schema's x-settings).
  const settings = schemas.Optimizer?.['x-settings'];
  if (!settings || typeof settings !== 'object')
    throw new Error("the API's OpenAPI document lists no optimizer settings");
  return { ...lists, optimizerSettings: settings };
}
