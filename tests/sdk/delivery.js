// A merchant backend's delivery calls, made through node-easywechat (EasyWeChat for Node.js,
// from the npm registry) against the base URL in SIMULATE_BASE_URL. Run by
// tests/integration/sdk.rs; prints one JSON line per call and exits non-zero on the first
// answer that is not what the platform documents.
'use strict';

const crypto = require('crypto');
const os = require('os');
const fs = require('fs');
const path = require('path');
const { MiniApp } = require('node-easywechat');

const base = process.env.SIMULATE_BASE_URL;
const appid = process.env.SIMULATE_APPID || 'wxsimulate0000dev';
const secret = process.env.SIMULATE_APP_SECRET || 'simulate-dev-secret';
if (!base) {
  console.error('SIMULATE_BASE_URL is not set');
  process.exit(2);
}

// The Dada test account (public, from the platform's documentation).
const SHOPID = 'dadaaee18818d97e236';
const CARRIER_SECRET = '1c6f40492d6d89caaad80b85f7d31670';
const ORDER = 'SDK-' + Date.now();
const sign = (id) => crypto.createHash('sha1').update(SHOPID + id + CARRIER_SECRET).digest('hex');

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simulate-sdk-'));
const app = new MiniApp({
  app_id: appid,
  secret,
  use_stable_access_token: true,
  http: { baseURL: base.replace(/\/?$/, '/'), throw: false },
  file_cache: { path: cacheDir },
});
const client = app.getClient();

function fail(step, why) {
  console.error(`${step}: ${why}`);
  process.exit(1);
}

async function call(step, apiPath, body) {
  const response = await client.postJson(apiPath, body);
  const answer = response.toObject();
  console.log(JSON.stringify({ step, errcode: answer.errcode, resultcode: answer.resultcode }));
  if (answer.errcode !== 0) fail(step, JSON.stringify(answer));
  return answer;
}

const BIZ = 'cgi-bin/express/local/business/';

async function main() {
  const token = await app.getAccessToken().getToken();
  if (typeof token !== 'string' || token.length < 16) fail('token', 'no access token');
  console.log(JSON.stringify({ step: 'token', ok: true }));

  const all = await call('delivery/getall', BIZ + 'delivery/getall', {});
  if (!Array.isArray(all.list) || !all.list.some((c) => c.delivery_id === 'DADA')) {
    fail('delivery/getall', 'DADA is not listed');
  }

  const order = {
    shopid: SHOPID,
    shop_order_id: ORDER,
    delivery_id: 'DADA',
    delivery_sign: sign(ORDER),
    openid: 'oSDKtestopenid0000000000000',
    shop_no: '77071-47913',
    sender: { name: '店', city: '广州', address: 'a', address_detail: 'b', phone: '020-1', lng: 113.32452, lat: 23.099994 },
    receiver: { name: '客', city: '广州', address: 'c', address_detail: 'd', phone: '13800000000', lng: 113.34, lat: 23.11 },
    cargo: { goods_value: 10, goods_weight: 1, cargo_first_class: '其他', cargo_second_class: '其他' },
    order_info: { order_type: 0, order_time: Math.floor(Date.now() / 1000) },
    shop: { wxa_path: '/p', img_url: 'https://example.com/g.png', goods_name: 'g', goods_count: 1 },
  };
  const added = await call('order/add', BIZ + 'order/add', order);
  if (!added.waybill_id) fail('order/add', 'no waybill_id');

  const ref = { shopid: SHOPID, shop_order_id: ORDER, delivery_sign: sign(ORDER) };
  const got = await call('order/get', BIZ + 'order/get', ref);
  if (got.order_status !== 101) fail('order/get', `status ${got.order_status}, not 101`);

  await call('realmock_update_order', BIZ + 'realmock_update_order', {
    ...ref,
    order_status: 102,
    action_time: Math.floor(Date.now() / 1000),
    action_msg: 'rider assigned (SDK test)',
  });
  const moved = await call('order/get', BIZ + 'order/get', ref);
  if (moved.order_status !== 102) fail('order/get', `status ${moved.order_status}, not 102`);

  await call('order/cancel', BIZ + 'order/cancel', {
    ...ref,
    delivery_id: 'DADA',
    shop_no: '77071-47913',
    cancel_reason_id: 1,
    cancel_reason: '',
  });
  const cancelled = await call('order/get', BIZ + 'order/get', ref);
  if (cancelled.order_status === 102) fail('order/get', 'still 102 after cancel');
  console.log(JSON.stringify({ step: 'done', order: ORDER, final_status: cancelled.order_status }));
  fs.rmSync(cacheDir, { recursive: true, force: true });
}

main().catch((e) => fail('sdk', e && e.stack ? e.stack : String(e)));
