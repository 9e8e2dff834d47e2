/**
 * The widget's stylesheet, adopted by its shadow root as a constructed stylesheet (no <style> or style
 * attribute in markup, so a page CSP of `style-src 'self'` allows it). `:host { all: initial }` keeps the
 * page's inherited styles out; the shadow boundary keeps these in. Colours are custom properties a
 * theme overrides (options.ts). Each line ends in `\`: the string itself has no line breaks.
 */
export const CSS = `\
:host{all:initial}\
.w{--cw-primary:var(--cw-t-primary,#1d4ed8);--cw-on-primary:var(--cw-t-on-primary,#fff);--cw-bg:var(--cw-t-bg,#fff);--cw-text:var(--cw-t-text,#1f2328);--cw-bubble:var(--cw-t-bubble,#eef1f5);--cw-muted:var(--cw-t-muted,#57606a);--cw-line:#d0d7de;--cw-link:var(--cw-primary);\
font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--cw-text)}\
.w.dark{--cw-bg:#1c1f26;--cw-text:#e8eaed;--cw-bubble:#2d323c;--cw-muted:#aeb4bd;--cw-line:#454c59;--cw-link:#9ec1ff}\
[hidden]{display:none!important}\
*,*::before,*::after{box-sizing:border-box}\
button,input,textarea{font:inherit;color:inherit}\
textarea{border:1px solid #8a8f98;background:var(--cw-bg)}\
svg{fill:currentColor}\
button{cursor:pointer}\
:focus-visible{outline:2px solid var(--cw-primary);outline-offset:2px}\
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}\
.dock{position:fixed;bottom:20px;right:20px;display:flex;align-items:center;gap:8px;z-index:var(--cw-z,2147483000)}\
.left .dock{right:auto;left:20px;flex-direction:row-reverse}\
.st{margin:0;padding:3px 9px;border-radius:99px;background:var(--cw-bg);color:var(--cw-text);font-size:12px;box-shadow:0 1px 4px #0003}\
.st::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px;background:#b3261e}\
.st[data-state=live]::before,.st[data-state=ready]::before{background:#1e8e3e}\
.st[data-state=polling]::before{background:#b06000}\
.la{position:relative;display:flex;align-items:center;gap:8px;min-width:56px;height:56px;padding:0 14px;border:0;border-radius:28px;background:var(--cw-primary);color:var(--cw-on-primary);box-shadow:0 4px 14px #0004;font-weight:600}\
.la svg{width:28px;height:28px}\
.bd{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#b3261e;color:#fff;font-size:12px;line-height:20px;text-align:center}\
.p{position:fixed;bottom:88px;right:20px;width:370px;height:600px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);display:flex;flex-direction:column;background:var(--cw-bg);color:var(--cw-text);border-radius:14px;box-shadow:0 8px 30px #0005;overflow:hidden;z-index:var(--cw-z,2147483000)}\
.left .p{right:auto;left:20px}\
.hd{display:flex;align-items:center;gap:4px;padding:10px 8px 10px 16px;background:var(--cw-primary);color:var(--cw-on-primary)}\
.hd :focus-visible{outline-color:var(--cw-on-primary)}\
.ttl{flex:1;margin:0;font-size:16px;font-weight:600}\
.ib{display:inline-flex;align-items:center;justify-content:center;min-width:36px;height:36px;padding:0 8px;border:0;border-radius:8px;background:transparent}\
.ib svg{width:20px;height:20px}\
.sc{flex:1;overflow-y:auto;padding:12px}\
.more{display:block;margin:0 auto 8px;padding:4px 10px;border:1px solid var(--cw-line);border-radius:99px;background:var(--cw-bg);font-size:12px}\
.log ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:8px}\
.m{display:flex;align-items:flex-end;gap:6px;max-width:88%}\
.me{align-self:flex-end;flex-direction:row-reverse}\
.b,.gr{padding:8px 11px;border-radius:14px;background:var(--cw-bubble);overflow-wrap:anywhere;min-width:0}\
.gr{margin:0 0 8px;max-width:88%}\
.me .b{background:var(--cw-primary);color:var(--cw-on-primary)}\
.b a{color:var(--cw-link)}\
.me .b a{color:inherit}\
.pend .b{outline:1px dashed var(--cw-muted)}\
.sys{align-self:center;max-width:92%;text-align:center}\
.sys .b{background:transparent;border:1px dashed var(--cw-line);font-size:13px}\
.t{margin:0;white-space:pre-wrap;max-height:24em;overflow-y:auto}\
.del .t{font-style:italic}\
.mn .b{border-left:3px solid var(--cw-primary)}\
.mn .mt{font-weight:700}\
.who{display:block;font-size:12px;font-weight:600;margin-bottom:2px}\
.av{flex:none;width:28px;height:28px;border-radius:50%;background:#5b3cc4;color:#fff;font-size:11px;font-weight:700;line-height:28px;text-align:center}\
.mt{display:block;margin-top:2px;font-size:11px;text-align:right}\
.q{margin:0 0 4px;padding-left:7px;border-left:3px solid;font-size:12px}\
.q bdi{display:block;font-weight:600}\
.rx{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin-top:4px;font-size:12px}\
.rx button{min-height:24px;padding:0 6px;border:1px solid;border-radius:99px;background:none}\
.rx [aria-pressed=true]{border-width:2px;font-weight:700}\
.rq{display:flex;align-items:center;padding:0 6px 0 14px;border-top:1px solid var(--cw-line);font-size:12px}\
.rq span{flex:1;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}\
.b img{display:block;max-width:100%;max-height:240px;border-radius:8px;margin-bottom:4px}\
.ty,.err,.up{margin:0;padding:2px 14px 4px;font-size:12px}\
.ty:empty,.err:empty,.up:empty{display:none}\
.err{color:#b3261e}\
.dark .err{color:#ffb4ab}\
.up progress{width:100%}\
.cl{padding:12px 14px;border-top:1px solid var(--cw-line)}\
.cl p{margin:0 0 8px}\
.cl fieldset{border:0;margin:0 0 8px;padding:0;display:flex;gap:6px;flex-wrap:wrap}\
.cl legend{padding:0;margin-bottom:6px;font-weight:600}\
.cl label{display:inline-flex;align-items:center;gap:3px;padding:4px 8px;border:1px solid var(--cw-line);border-radius:8px}\
.cl textarea{display:block;width:100%;margin:0 0 8px;border-radius:8px;padding:6px 8px}\
.pb{padding:7px 14px;border:0;border-radius:10px;background:var(--cw-primary);color:var(--cw-on-primary);font-weight:600}\
.cp{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid var(--cw-line)}\
.cp textarea{flex:1;min-height:38px;max-height:120px;resize:none;border-radius:10px;padding:8px 10px}\
.cp .pb{height:38px}\
.pulse::before{animation:cw-pulse 1s infinite alternate}\
@keyframes cw-pulse{to{opacity:.3}}\
@media (max-width:480px){.p,.left .p{left:8px;right:8px;width:auto;max-width:none;top:8px;height:auto;max-height:none;bottom:84px}}\
@media (prefers-reduced-motion:reduce){.pulse::before{animation:none}}\
`;
