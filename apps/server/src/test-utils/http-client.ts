/** POST /v1/samples with a JSON body (or raw text and headers), returning status, headers and the body bytes. */
export async function postSamples(
  url: string,
  body: unknown,
  options: { raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; bytes: Buffer; json: () => Record<string, unknown> }> {
  const response = await fetch(`${url}/v1/samples`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.raw ?? JSON.stringify(body),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes, json: () => JSON.parse(bytes.toString('utf8')) as Record<string, unknown> };
}
