import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { SANDBOX, creds, curl, fx, ids, ok, visible, R1 } from './helpers.js';

// The curl examples of ispcrm-customers.txt, copied verbatim.
const DOC = {
  list: `curl -X POST $BASE_URL/api/customer/list -d userid=5 -d api_key="0f9895fb407c83e5ea128082098b47681aa75d6944576423c4"`,
  create: `curl -X POST $BASE_URL/api/customer/create -d userid=5 -d api_key="0f9895fb407c83e5ea128082098b47681aa75d6944576423c4" -d resellerid=1 -d type="Individual" -d name="Some Name" -d mobile="12344444" -d email="abc@email.com" -d zipcode="12345" -d state="Goa" -d city="Panaji" -d street="3rd street"`,
  update: `curl -X POST $BASE_URL/api/customer/update -d userid=5 -d api_key="0f9895fb407c83e5ea128082098b47681aa75d6944576423c4" -d customerid=1243 -d street="2nd street"`,
  delete: `curl -X POST $BASE_URL/api/customer/delete -d userid=5 -d api_key="0f9895fb407c83e5ea128082098b47681aa75d6944576423c4" -d customerid=1423`,
};

describe('ISP CRM: the doc examples as written', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await makeApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('list answers the first 10 customers of the sandbox reseller, in id order', async () => {
    const a = await curl(app, DOC.list);
    expect(a.status).toBe(200);
    expect(a.error).toBeNull();
    expect(ids(a.result)).toEqual(ids(visible(R1).slice(0, 10)));
    const first = fx.customers[0];
    expect(a.result[0]).toMatchObject({
      id: first.id,
      name: first.name,
      mobile: first.mobile,
      email: first.email,
      type: first.type,
      resellerid: 1,
      ispid: 1,
    });
    expect(a.result[0].services).toEqual(
      fx.services
        .filter((s) => s.customerid === first.id)
        .map((s) => ({ serviceid: s.id, username: s.username, plan: s.plan, status: s.status, created: s.created })),
    );
  });

  it('create answers {"result": 1243, "error": null} on a fresh start, byte for byte', async () => {
    const a = await curl(app, DOC.create);
    expect(a.raw).toBe('{"result":1243,"error":null}');
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    const [c] = await ok(app, 'list', { ...SANDBOX, customerid: '1243' });
    expect(c).toMatchObject({
      id: 1243,
      ispid: 1,
      resellerid: 1,
      type: 'Individual',
      name: 'Some Name',
      mobile: '12344444',
      email: 'abc@email.com',
      zipcode: '12345',
      state: 'Goa',
      city: 'Panaji',
      street: '3rd street',
      surname: null,
      dob: null,
      uniqueid: null,
      notes: null,
      services: [],
    });
  });

  it('update of 1243 answers "done" and changes only the street', async () => {
    await curl(app, DOC.create);
    const [before] = await ok(app, 'list', { ...SANDBOX, customerid: '1243' });
    const a = await curl(app, DOC.update);
    expect(a.raw).toBe('{"result":"done","error":null}');
    const [after] = await ok(app, 'list', { ...SANDBOX, customerid: '1243' });
    expect(after).toEqual({ ...before, street: '2nd street', updated: after.updated });
  });

  it('delete as written names 1423, which does not exist on a fresh start (the doc means 1243)', async () => {
    await curl(app, DOC.create);
    const a = await curl(app, DOC.delete);
    expect(a).toMatchObject({ status: 200, result: null, error: 'Invalid customerid. Customer not found' });
    expect(await ok(app, 'list', { ...SANDBOX, customerid: '1243' })).toHaveLength(1);
    const b = await curl(app, DOC.delete.replace('customerid=1423', 'customerid=1243'));
    expect(b.raw).toBe('{"result":"done","error":null}');
    expect(await ok(app, 'list', { ...SANDBOX, customerid: '1243' })).toEqual([]);
  });

  it('ids keep counting after the first create', async () => {
    expect((await curl(app, DOC.create)).result).toBe(1243);
    expect((await curl(app, DOC.create)).result).toBe(1244);
    await curl(app, DOC.delete.replace('customerid=1423', 'customerid=1244'));
    expect((await curl(app, DOC.create)).result).toBe(1245);
    expect(creds(R1)).toEqual(SANDBOX);
  });
});
