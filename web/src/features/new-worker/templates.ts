export interface Template {
  id: "sum" | "fetch-blocked" | "worker-module" | "workflow";
  label: string;
  description: string;
  code: string;
  payload: string;
}

export const TEMPLATES: Template[] = [
  {
    id: "sum",
    label: "Sum",
    description: "A bare function body: the payload is in scope, the return value is the result.",
    code: "return payload.a + payload.b\n",
    payload: '{\n  "a": 2,\n  "b": 3\n}\n',
  },
  {
    id: "fetch-blocked",
    label: "Fetch (blocked)",
    description: "Workers run with no network: this shows the error a fetch() gets.",
    code: [
      "export default async function (payload, ctx) {",
      '  console.log("trying to reach", payload.url)',
      "  const res = await fetch(payload.url)",
      "  return res.status",
      "}",
      "",
    ].join("\n"),
    payload: '{\n  "url": "https://example.com"\n}\n',
  },
  {
    id: "worker-module",
    label: "Worker module",
    description: "A full Worker: the payload is POSTed as JSON, the response body is the result.",
    code: [
      "export default {",
      "  async fetch(request) {",
      "    const p = await request.json()",
      "    return Response.json({ hello: p.name })",
      "  },",
      "}",
      "",
    ].join("\n"),
    payload: '{\n  "name": "dymunim"\n}\n',
  },
  {
    id: "workflow",
    label: "Workflow",
    description:
      "A durable run(event, step): each step runs once and is kept; the run sleeps between steps. Its job page shows the steps.",
    code: [
      "export default {",
      "  async run(event, step) {",
      '    const order = await step.do("reserve", async () => ({ id: event.payload.order, reserved: true }))',
      '    await step.sleep("settle", "2 seconds")',
      '    return await step.do("confirm", { retries: { limit: 3, delay: "1 second" } }, async () => ({',
      "      ...order,",
      "      confirmed: true,",
      "    }))",
      "  },",
      "}",
      "",
    ].join("\n"),
    payload: '{\n  "order": 42\n}\n',
  },
];

export const templateById = (id: string | undefined) => TEMPLATES.find((t) => t.id === id) ?? TEMPLATES[0];
