/**
 * The portal page: server-rendered HTML plus one small inline ES5 script (old Android WebViews and captive-network
 * mini-browsers), no framework, no external file, font or CDN. State lives in the URL and in the page, never in
 * localStorage (mini-browsers forget it, or have none): after a code is sent the URL becomes
 * `?…NAS params…&lang=fr&step=code&phone=%2B229…`, so a reload shows the code step. The NAS's query parameters
 * (CoovaChilli UAM, MikroTik hotspot) are carried through every step and sent with the code.
 */

import type { PlanOffer } from '@rgz/core';
import { BUY_KEYS, fill, type Lang, type Messages, messages, SCRIPT_KEYS, VOUCHER_KEYS } from './i18n.js';

/** Parameters a NAS adds to the portal URL; everything else is ours or ignored. */
export const NAS_PARAMS = [
  // CoovaChilli UAM (specs/captive-portal.md §1)
  'res',
  'uamip',
  'uamport',
  'challenge',
  'called',
  'mac',
  'ip',
  'nasid',
  'sessionid',
  'userurl',
  'md',
  'reply',
  // MikroTik hotspot external page (§2)
  'link-login',
  'link-login-only',
  'link-orig',
  'chap-id',
  'chap-challenge',
  'identity',
  'server-name',
  'error',
  'username',
  // RGZ: the reseller named in a portal link, and the code of a prepaid ticket's QR (`?voucher=`)
  'reseller',
  'voucher',
] as const;

export interface PageInput {
  lang: Lang;
  brand: string;
  /** NAS parameters from the query (or a MikroTik form post), already limited to NAS_PARAMS. */
  params: Record<string, string>;
  plans: PlanOffer[];
  /** Show the code step for this number (`step=code&phone=…` in the URL). */
  codeFor: { e164: string; display: string } | null;
  nonce: string;
  /** Where a plan is bought (billing's `POST …/orders`); null when no billing or no payment provider is loaded. */
  buy: string | null;
  /** Where a prepaid code is redeemed (`POST …/redeem`); null when no voucher plugin is loaded. */
  redeem: string | null;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function httpUrl(s: string | undefined): string | null {
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** What the script sends with the code to `/portal/otp/verify`, from the NAS parameters. */
export function verifyContext(p: Record<string, string>): Record<string, unknown> {
  const ctx: Record<string, unknown> = {};
  if (p.mac) ctx.mac = p.mac;
  if (p.ip) ctx.ip = p.ip;
  const nasId = p.nasid || p.identity;
  if (nasId) ctx.nas_id = nasId;
  if (p.reseller) ctx.reseller = p.reseller;
  if (p.uamip && p.uamport && p.challenge)
    ctx.uam = { uamip: p.uamip, uamport: Number(p.uamport), challenge: p.challenge, ...(p.userurl ? { userurl: p.userurl } : {}) };
  if (p['link-login-only']) {
    ctx.mikrotik = {
      link_login_only: p['link-login-only'],
      ...(p['chap-id'] ? { chap_id: p['chap-id'] } : {}),
      ...(p['chap-challenge'] ? { chap_challenge: p['chap-challenge'] } : {}),
      ...(p['link-orig'] ? { link_orig: p['link-orig'] } : {}),
    };
  }
  return ctx;
}

function planLine(t: Messages, lang: Lang, p: PlanOffer, buy: boolean): string {
  const price = p.price_fcfa.toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB');
  const days = Math.round(p.validity_seconds / 86_400);
  const period = p.quota_period === 'day' ? ` ${t.per_day}` : p.quota_period === 'month' ? ` ${t.per_month}` : '';
  const detail = `${fill(t.days, { n: days })}${p.quota_bytes ? ` · ${formatBytes(p.quota_bytes, lang)}${period}` : ''}`;
  return `<li><span class="pr">${esc(price)} FCFA</span><b>${esc(p.name)}</b><br><small>${esc(detail)}</small><button type="button" ${buy ? `data-plan="${esc(p.code)}"` : 'disabled aria-describedby="pay-note"'}>${esc(t.buy)}</button></li>`;
}

function formatBytes(n: number, lang: Lang): string {
  const [unitM, unitG] = lang === 'fr' ? ['Mo', 'Go'] : ['MB', 'GB'];
  return n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(1)} ${unitG}` : `${Math.round(n / 1024 ** 2)} ${unitM}`;
}

const CSS = `*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#eef1f4}main{max-width:28rem;margin:0 auto;padding:.75rem}header{display:flex;justify-content:space-between;align-items:center;gap:1rem}h1{font-size:1.3rem;margin:.4rem 0}h2{font-size:1.15rem;margin:0 0 .6rem}section{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 .75rem;box-shadow:0 1px 2px #0002}label{display:block;font-weight:600;margin:.4rem 0 .25rem}input{width:100%;font:inherit;font-size:1.3rem;letter-spacing:.04em;padding:.55rem .6rem;border:2px solid #56616c;border-radius:.35rem;background:#fff;color:#111}:focus{outline:3px solid #d97706;outline-offset:1px}[tabindex="-1"]:focus{outline:0}#s-done,#s-online{border-left:6px solid #15803d}button{display:block;width:100%;margin-top:.75rem;font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:.35rem;background:#0a559f;color:#fff;cursor:pointer}button[disabled]{background:#d3d8dd;color:#39424b;cursor:not-allowed}.lk{display:inline;width:auto;background:none;color:#0a559f;text-decoration:underline;padding:.3rem 0;margin:0;font-weight:400}a{color:#0a559f}p{margin:.4rem 0}.h,small,.note{color:#4a5560;font-size:.9rem}#msg{padding:.6rem .75rem;border-radius:.35rem;margin:0 0 .75rem}.err{background:#fdecee;color:#7f0f1d;border:1px solid #e0a0a8}.ok{background:#e7f4eb;color:#14532d;border:1px solid #9fd0ae}ul{list-style:none;padding:0;margin:.5rem 0 0}li{border-top:1px solid #e1e5e9;padding:.6rem 0}li button{margin-top:.4rem;padding:.5rem}.pr{float:right;font-weight:600}summary{font-weight:600;font-size:1.1rem;cursor:pointer}[hidden]{display:none!important}`;

/** The whole page, one response. */
export function renderPage(input: PageInput): string {
  const { lang, params, nonce } = input;
  const t = messages[lang];
  const other: Lang = lang === 'fr' ? 'en' : 'fr';
  const carry = new URLSearchParams(Object.entries(params)).toString();
  const step = input.codeFor ? 'code' : 'phone';
  const stepQuery = input.codeFor ? `step=code&phone=${encodeURIComponent(input.codeFor.e164)}` : '';
  const href = (l: Lang, extra: string) => `?${[carry, `lang=${l}`, extra].filter(Boolean).join('&')}`;
  const online = params.res === 'success' || params.res === 'already';
  const nasError = params.res === 'failed' ? [t.nas_failed, params.reply].filter(Boolean).join(' ') : params.error || '';
  const userUrl = httpUrl(params.userurl) ?? httpUrl(params['link-orig']);
  const keys = [...SCRIPT_KEYS, ...(input.buy ? BUY_KEYS : []), ...(input.redeem ? VOUCHER_KEYS : [])];
  const script = Object.fromEntries(keys.map((k) => [k, t[k]]));
  const state = {
    lang,
    other,
    carry,
    phone: input.codeFor?.e164 ?? '',
    nas: verifyContext(params),
    buy: input.buy,
    redeem: input.redeem,
    t: script,
  };
  const voucher = (params.voucher ?? '').replace(/[^A-Za-z0-9 -]/g, '').slice(0, 20);
  const json = JSON.stringify(state).replace(/</g, '\\u003c');
  const plans = input.plans.length ? `<ul>${input.plans.map((p) => planLine(t, lang, p, !!input.buy)).join('')}</ul>` : `<p>${esc(t.no_plans)}</p>`;

  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${esc(input.brand)} · ${esc(t.html_title)}</title><style nonce="${nonce}">${CSS}</style></head><body><main>
<header><h1>${esc(input.brand)}</h1><a id="lang" href="${esc(href(other, stepQuery))}" hreflang="${other}" lang="${other}">${esc(t.other_lang)}</a></header>
<p id="msg" role="alert" class="err"${nasError ? '' : ' hidden'}>${esc(nasError)}</p>
${online ? `<section id="s-online"><h2>${esc(t.h_online)}</h2>${userUrl ? `<p><a href="${esc(userUrl)}">${esc(t.continue)}</a></p>` : ''}</section>` : ''}
<section id="s-phone"${online || step !== 'phone' ? ' hidden' : ''}><h2 id="h-phone" tabindex="-1">${esc(t.h_phone)}</h2><p>${esc(t.intro)}</p>
<form id="f-phone" novalidate><label for="phone">${esc(t.phone_label)}</label><input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" required aria-describedby="phone-h" placeholder="01 97 00 00 00"><p id="phone-h" class="h">${esc(t.phone_help)}</p><button id="b-phone" type="submit">${esc(t.send_code)}</button></form></section>
<section id="s-code"${online || step !== 'code' ? ' hidden' : ''}><h2 id="h-code" tabindex="-1">${esc(t.h_code)}</h2><p class="h">${esc(t.sent_to)}<b id="to">${esc(input.codeFor?.display ?? '')}</b></p>
<form id="f-code" novalidate><label for="code">${esc(t.code_label)}</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required aria-describedby="code-h"><p id="code-h" class="h">${esc(t.code_help)}</p><button id="b-code" type="submit">${esc(t.verify)}</button></form>
<p><button id="resend" type="button" class="lk">${esc(t.resend)}</button> · <a id="change" href="${esc(href(lang, ''))}">${esc(t.change)}</a></p></section>
<section id="s-done" hidden><h2 id="h-done" tabindex="-1">${esc(t.h_done)}</h2><p>${esc(t.your_ref)}<b id="ref"></b></p><p id="p-on" hidden>${esc(t.plan_on).replace('{name}', '<b id="p-name"></b>').replace('{left}', '<span id="p-left"></span>')}<span id="p-q"></span></p><p id="p-off" hidden>${esc(t.plan_off)}</p><button id="go" type="button" hidden>${esc(t.go)}</button></section>
${input.redeem ? `<section id="s-v" hidden><form id="f-v" novalidate><label for="voucher">${esc(t.v_label)}</label><input id="voucher" name="voucher" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="20" aria-describedby="v-h" value="${esc(voucher)}"><p id="v-h" class="h">${esc(t.v_help)}</p><button id="b-v" type="submit">${esc(t.v_use)}</button></form></section>` : ''}
<section><details id="plans"><summary>${esc(t.plans)}</summary><p id="pay-note" class="note">${esc(input.buy ? t.pay_on : t.pay_note)}</p>${plans}</details></section>
<form id="nas" method="post" hidden></form></main>
<script id="st" type="application/json">${json}</script><script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}

/** ES5 on purpose: the oldest WebViews in use in captive-network assistants. */
const SCRIPT = `(function(){var d=document,S=JSON.parse(d.getElementById('st').textContent),T=S.t,login=null,nl=null,tok=null,order=null,hooked=0,polls=0;
function $(i){return d.getElementById(i)}
function f(s,o){return s.replace(/\\{(\\w+)\\}/g,function(m,k){return k in o?o[k]:m})}
function msg(t,ok){var m=$('msg');m.textContent=t||'';m.className=ok?'ok':'err';m.hidden=!t}
function show(s,el){var a=['phone','code','done'];for(var i=0;i<a.length;i++)$('s-'+a[i]).hidden=a[i]!==s;var e=$(el||'h-'+s);if(e)e.focus()}
function q(l,x){return '?'+[S.carry,'lang='+l,x].filter(function(v){return v}).join('&')}
function loc(x){$('lang').href=q(S.other,x);try{history.replaceState(null,'',q(S.lang,x))}catch(e){}}
function wait(s){return s<120?f(T.sec,{n:s}):s<7200?f(T.min,{n:Math.ceil(s/60)}):f(T.hour,{n:Math.ceil(s/3600)})}
function err(st,j){if(!st)return T.network;return f(T['e_'+j.code]||T.generic,{t:wait(j.retry_after||60),n:j.attempts_left})}
function req(m,p,b,cb,btn){if(btn)btn.disabled=true;var x=new XMLHttpRequest();x.open(m,p,true);if(tok)x.setRequestHeader('authorization','Bearer '+tok);if(b)x.setRequestHeader('content-type','application/json');x.timeout=20000;
x.onload=function(){var j={};try{j=JSON.parse(x.responseText)}catch(e){}if(btn)btn.disabled=false;cb(x.status,j||{})};
x.onerror=x.ontimeout=function(){if(btn)btn.disabled=false;cb(0,{})};x.send(b?JSON.stringify(b):null)}
function post(p,b,cb,btn){req('POST',p,b,cb,btn)}
function sent(j){S.phone=j.phone;$('to').textContent=j.display;msg(f(j.status==='code_already_sent'?T.already:T.sent,{p:j.display,m:Math.ceil(j.expires_in/60)}),1);loc('step=code&phone='+encodeURIComponent(j.phone));show('code','code')}
function ask(b,btn){msg();post('/portal/otp/request',b,function(st,j){if(st===200||st===202)sent(j);else msg(err(st,j))},btn)}
$('f-phone').onsubmit=function(e){e.preventDefault();ask({phone:$('phone').value,lang:S.lang},$('b-phone'))};
$('resend').onclick=function(){ask({phone:S.phone,lang:S.lang,resend:true},this)};
function clean(v){var m=v.replace(/\\s+/g,'').match(/\\d{6}/);return m?m[0]:v.replace(/\\D/g,'')}
$('code').oninput=function(){var c=clean(this.value);if(c.length===6&&c!==this.value)this.value=c};
$('f-code').onsubmit=function(e){e.preventDefault();msg();var c=clean($('code').value);if(c.length!==6){msg(T.e_invalid_code);$('code').focus();return}
var b=S.nas;b.phone=S.phone;b.code=c;post('/portal/otp/verify',b,function(st,j){if(st===200)done(j);else{msg(err(st,j));if(j.code==='otp_burned'||j.code==='otp_expired')$('code').value='';$('code').focus()}},$('b-code'))};
function left(s){var D=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60);return D?f(T.left_dh,{d:D,h:h}):h?f(T.left_h,{h:h,m:m}):f(T.left_m,{m:m})}
function mb(n){return n>=1073741824?Math.round(n/107374182.4)/10+' '+T.gb:Math.round(n/1048576)+' '+T.mb}
function plan(p,u){$('p-on').hidden=!p;$('p-off').hidden=!!p;if(!p)return;$('p-name').textContent=p.name;$('p-left').textContent=left(p.remaining_seconds);$('p-q').textContent=u&&u.remaining_bytes!=null?' '+f(T.q_left,{q:mb(u.remaining_bytes)}):''}
function me(cb){req('GET','/portal/me',null,function(st,j){if(st!==200)return;plan(j.has_active_plan&&j.plan,j.usage);if(cb)cb()})}
function online(){$('plans').open=false;login=nl;$('go').hidden=!login;if(login)setTimeout(go,1500)}
function done(j){loc('');msg();tok=j.api_token;nl=j.nas_login;$('ref').textContent=j.subscriber_ref;var on=j.has_active_plan&&j.plan;plan(on);
if(on&&on.quota_bytes)me();if(!on)$('plans').open=true;if($('s-v'))$('s-v').hidden=false;login=on?nl:null;$('go').hidden=!login;show('done');if(login)setTimeout(go,1500)}
function go(){if(!login)return;if(login.method==='GET'){location.href=login.url;return}var fm=$('nas');fm.action=login.url;fm.innerHTML='';
for(var k in login.fields){var i=d.createElement('input');i.type='hidden';i.name=k;i.value=login.fields[k];fm.appendChild(i)}fm.submit()}
$('go').onclick=go;
if(S.buy)$('plans').onclick=function(e){var b=e.target,c=b.getAttribute&&b.getAttribute('data-plan');if(!c)return;if(!tok){msg(T.login_first);if(!$('s-phone').hidden)$('phone').focus();return}
msg();post(S.buy,{plan_code:c},function(st,j){if(st===201)pay(j);else msg(err(st,j))},b)};
function pay(o){order=o;var c=o.checkout||{},n=++polls;if(c.kind==='redirect'){location.href=c.url;return}
msg(c.kind==='push'?T.push:T.paying,1);poll(o.links.self,n,0);if(c.kind!=='client_widget')return;
var open=function(){var p={},k;for(k in c.params)p[k]=c.params[k];delete p.callback;delete p.failed_callback;
if(!hooked){hooked=1;window.addSuccessListener(function(r){if(order&&r&&r.transactionId)post(order.links.callback,{transaction_id:r.transactionId},function(){})});if(window.addFailedListener)window.addFailedListener(function(){msg(T.pay_failed)})}
window.openKkiapayWidget(p)};
if(window.openKkiapayWidget)open();else{var s=d.createElement('script');s.setAttribute('src',c.script_url);s.onload=open;s.onerror=function(){msg(T.network)};d.body.appendChild(s)}}
function poll(u,n,i){if(n!==polls)return;req('GET',u,null,function(st,j){if(n!==polls)return;if(st===200&&j.status==='paid'){polls++;msg(f(T.paid,{name:j.plan.name}),1);me(online);return}
if(st===200&&j.status!=='pending'){msg(T.pay_failed);return}if(i<100)setTimeout(function(){poll(u,n,i+1)},3000);else msg(T.pay_wait)})}
if($('f-v'))$('f-v').onsubmit=function(e){e.preventDefault();var v=$('voucher').value;if(!/\\S/.test(v)){$('voucher').focus();return}msg();
post(S.redeem,{code:v},function(st,j){if(st===200){$('voucher').value='';S.carry=S.carry.replace(/(^|&)voucher=[^&]*/,'').replace(/^&/,'');loc('');msg(T.v_ok,1);me(online)}else{msg(err(st,j));$('voucher').focus()}},$('b-v'))}})();`;
