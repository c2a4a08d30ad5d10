/** The response checker on a made-up vendor contract: JSON, XML through `xml` annotations, and the 500 on drift. */
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { ResponseChecker, installResponseValidation, buildDocument } from '../../src/server/control/openapi.js';
import type { VendorModule } from '../../src/routes/shared/vendor.js';
import type { VendorContract } from '../../src/routes/shared/contract.js';

const item = {
  type: 'object',
  xml: { name: 'thing' },
  additionalProperties: false,
  required: ['id', 'name'],
  properties: {
    id: { type: 'integer', xml: { attribute: true } },
    name: { type: 'string' },
    tags: { type: 'array', xml: { wrapped: true }, items: { type: 'string', xml: { name: 'tag' } } },
  },
};
const contract: VendorContract = {
  description: 'test',
  paths: {
    '/things/{id}': {
      get: {
        operationId: 'fake.things.get',
        'x-operation': 'things.get',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: {
          200: {
            description: 'a thing',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/FakeThing' } },
              'application/xml': { schema: { $ref: '#/components/schemas/FakeThing' } },
            },
          },
          404: { description: 'none' },
          400: {
            description: 'one of two faults',
            content: {
              'application/xml': {
                schema: {
                  anyOf: [
                    {
                      type: 'object',
                      xml: { name: 'badFault' },
                      required: ['message'],
                      properties: { code: { type: 'integer', xml: { attribute: true } }, message: { type: 'string' } },
                    },
                    {
                      type: 'object',
                      xml: { name: 'otherFault' },
                      required: ['message'],
                      properties: { message: { type: 'string' } },
                    },
                  ],
                },
              },
            },
          },
        },
      },
    },
  },
  components: { schemas: { FakeThing: item } },
  examples: () => [],
};
const fake = {
  name: 'fake',
  title: 'Fake',
  prefix: '/fake',
  basePaths: ['/fake'],
  tables: [],
  contract,
  plugin: async () => {},
} as unknown as VendorModule;

describe('ResponseChecker', () => {
  const checker = new ResponseChecker([fake]);

  it('accepts a matching JSON body and names what drifts', () => {
    expect(
      checker.check('fake', 'things.get', 200, 'application/json', '{"id":1,"name":"a","tags":["x"]}').errors,
    ).toEqual([]);
    expect(
      checker.check('fake', 'things.get', 200, 'application/json; charset=utf-8', '{"id":"1","name":"a"}').errors,
    ).toEqual(['/id must be integer']);
    expect(
      checker.check('fake', 'things.get', 200, 'application/json', '{"id":1,"name":"a","extra":true}').errors,
    ).toEqual(['(root) must NOT have additional properties: extra']);
    expect(checker.check('fake', 'things.get', 200, 'application/json', '{oops').errors[0]).toMatch(
      /^the body is not valid JSON/,
    );
  });

  it('reads XML through the schema: attributes, wrapped arrays, unknown elements', () => {
    const ok = '<?xml version="1.0"?><thing id="7"><name>a</name><tags><tag>x</tag><tag>y</tag></tags></thing>';
    expect(checker.check('fake', 'things.get', 200, 'application/xml', ok).errors).toEqual([]);
    expect(
      checker.check(
        'fake',
        'things.get',
        200,
        'application/xml',
        '<thing id="7"><name>a</name><color>red</color></thing>',
      ).errors,
    ).toEqual(['(root) must NOT have additional properties: color']);
    expect(
      checker.check('fake', 'things.get', 200, 'application/xml', '<thing id="x"><name>a</name></thing>').errors,
    ).toEqual(['/id must be integer']);
    expect(checker.check('fake', 'things.get', 200, 'application/xml', '<other/>').errors[0]).toMatch(
      /root element <thing> expected/,
    );
  });

  it('picks the anyOf branch whose root element the XML body has', () => {
    expect(
      checker.check(
        'fake',
        'things.get',
        400,
        'application/xml',
        '<badFault code="400"><message>x</message></badFault>',
      ).errors,
    ).toEqual([]);
    expect(
      checker.check('fake', 'things.get', 400, 'application/xml', '<otherFault><message>y</message></otherFault>')
        .errors,
    ).toEqual([]);
    expect(checker.check('fake', 'things.get', 400, 'application/xml', '<otherFault/>').errors).toEqual([
      "(root) must have required property 'message'",
    ]);
    expect(checker.check('fake', 'things.get', 400, 'application/xml', '<thirdFault/>').errors[0]).toMatch(
      /root element <badFault> or <otherFault> expected/,
    );
  });

  it('refuses undocumented statuses, media types, operations, and bodies where none is documented', () => {
    expect(checker.check('fake', 'things.get', 500, 'application/json', '{}').errors).toEqual([
      'status 500 is not documented for things.get',
    ]);
    expect(checker.check('fake', 'things.get', 200, 'text/html', '<p>').errors[0]).toMatch(
      /media type "text\/html" is not documented/,
    );
    expect(checker.check('fake', 'things.list', 200, 'application/json', '[]').errors).toEqual([
      'operation things.list is not in the fake contract',
    ]);
    expect(checker.check('fake', 'things.get', 404, undefined, '').errors).toEqual([]);
    expect(checker.check('fake', 'things.get', 404, 'application/json', '{}').errors[0]).toMatch(
      /documented without a body/,
    );
    expect(checker.check('other', 'x', 200, 'application/json', '{}').ok).toBe(true);
  });

  it('turns a drifting response into a 500 naming the violation', async () => {
    const app = Fastify({ logger: false });
    app.decorateRequest('emulator', null as never);
    await app.register(
      async (scope) => {
        scope.addHook('onRequest', async (request) => {
          request.emulator = { operation: 'things.get' } as never;
        });
        installResponseValidation(scope, fake, checker);
        scope.get('/things/:id', async (request) =>
          (request.params as { id: string }).id === '1' ? { id: 1, name: 'a' } : { id: 2 },
        );
      },
      { prefix: '/fake' },
    );
    expect((await app.inject({ url: '/fake/things/1' })).statusCode).toBe(200);
    const bad = await app.inject({ url: '/fake/things/2' });
    expect(bad.statusCode).toBe(500);
    expect(bad.json()).toMatchObject({
      error: 'Response validation failed',
      message: 'The fake response to things.get (status 200) does not match its OpenAPI schema',
      violations: ["(root) must have required property 'name'"],
    });
    await app.close();
  });

  it('documents each vendor under its own paths and refuses a path documented twice', () => {
    expect(buildDocument([fake]).paths['/things/{id}']).toBeDefined();
    expect(() => buildDocument([fake, { ...fake, name: 'fake2' } as unknown as VendorModule])).toThrow(
      /documented twice/,
    );
  });
});
