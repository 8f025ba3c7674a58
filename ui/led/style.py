"""CSS of the LED screen: hides the Streamlit chrome and lays out a fixed 16:9 canvas.

Every size is written in design pixels of a 1920×1080 canvas (`24U`) and compiled to
`calc(24 * var(--u))`, where --u = min(100vw/1920, 100vh/1080): the same layout at 1280×720,
1920×1080 and 3840×2160, letterboxed on other aspect ratios, nothing cut off. Injected only by
the LED page, so the dashboard pages keep their light theme.
"""

from __future__ import annotations

import re

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'

BG = "#030b1f"
TEXT = "#e8f1ff"
MUTED = "#8fa8cc"
ACCENT = "#3fd0ff"
GOOD = "#35e08a"
BAD = "#ff5d5d"
AMBER = "#ffb020"
RAG_BG = {"green": "#0f7a45", "amber": "#a86a00", "red": "#b3261e", None: "#1a2c4d"}

_CSS = """
:root { --u: min(calc(100vw / 1920), calc(100vh / 1080)); }
html, body { background: BG !important; overflow: hidden !important; }
* { scrollbar-width: none !important; }
*::-webkit-scrollbar { display: none !important; width: 0 !important; height: 0 !important; }
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
  background: BG !important; overflow: hidden !important; }
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stMainMenu"], [data-testid="stConnectionStatus"],
[data-testid="stSkeleton"], [data-testid="stAppDeployButton"], footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: none !important; }
[data-stale="true"], [data-stale="true"] * { opacity: 1 !important; transition: none !important; }
.stElementContainer { margin: 0 !important; }
/* Streamlit's own modals (English "Connection error", "Page not found") would cover the screen;
   the watchdog's Chinese note below replaces the first, the second cannot occur on /led */
[data-testid="stDialog"], [data-baseweb="modal"], [role="dialog"] { display: none !important; }
.led-frame.led-offline-note { display: none; z-index: 1002; }
body.led-offline .led-offline-note { display: block; }
.led-offline-note div { position: absolute; left: 0; top: 104U; width: 1920U; height: 60U;
  display: flex; align-items: center; justify-content: center; font-size: 30U; font-weight: 800;
  color: #1a1000; background: AMBER; }

.led-frame { position: fixed; z-index: 1000;
  left: calc((100vw - 1920U) / 2); top: calc((100vh - 1080U) / 2); width: 1920U; height: 1080U;
  font-family: FONT; color: TEXT; pointer-events: none; overflow: hidden; line-height: 1.25;
  font-variant-numeric: tabular-nums; }
.led-frame * { box-sizing: border-box; }
.led-bg { z-index: 999;
  background: radial-gradient(ellipse at 50% 0%, #0d2a66 0%, #06163a 45%, BG 100%); }
.led-bg::before { content: ""; position: absolute; inset: 0;
  background-image: linear-gradient(rgba(63,208,255,.05) 1U, transparent 1U),
                    linear-gradient(90deg, rgba(63,208,255,.05) 1U, transparent 1U);
  background-size: 48U 48U; }

/* title bar */
.led-title { position: absolute; left: 0; top: 0; width: 1920U; height: 100U; padding: 0 32U;
  display: flex; align-items: center; justify-content: space-between;
  background: linear-gradient(180deg, rgba(20,70,150,.55), rgba(6,22,58,0));
  border-bottom: 2U solid rgba(63,208,255,.45); }
.led-title h1 { margin: 0; padding: 0; font-size: 50U; font-weight: 800; letter-spacing: 4U;
  color: #fff; text-shadow: 0 0 18U rgba(63,208,255,.6); white-space: nowrap; font-family: FONT; line-height: 1.2; }
.led-title h1 small { font-size: 34U; font-weight: 600; color: ACCENT; margin-left: 18U; letter-spacing: 2U; }
.led-demo { display: inline-block; vertical-align: middle; margin-left: 24U; padding: 2U 16U;
  font-size: 30U; font-weight: 800; letter-spacing: 4U; color: #1a1200; background: AMBER;
  border-radius: 8U; text-shadow: none; }
.led-clock { text-align: right; white-space: nowrap; }
.led-clock .t { font-size: 34U; font-weight: 700; }
.led-clock .t span { color: MUTED; font-weight: 500; font-size: 26U; margin-right: 14U; }
.led-stamp { font-size: 22U; color: MUTED; }
.led-stamp.stale { color: AMBER; font-weight: 700; }
.led-stamp b { color: TEXT; font-weight: 600; }
.led-stamp.stale b { color: AMBER; }

/* view strip */
.led-strip { position: absolute; left: 32U; top: 108U; width: 1856U; height: 52U;
  display: flex; align-items: center; gap: 24U; }
.led-strip .name { font-size: 36U; font-weight: 800; color: #fff; padding-left: 18U;
  border-left: 8U solid ACCENT; white-space: nowrap; }
.led-strip .period { font-size: 26U; color: ACCENT; white-space: nowrap; }
.led-strip .period.partial { color: AMBER; font-weight: 700; }
.led-strip .note { font-size: 24U; color: AMBER; font-weight: 700; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.led-strip .dots { margin-left: auto; display: flex; gap: 8U; align-items: center; flex-shrink: 0; }
.led-strip .dots i { display: block; width: 14U; height: 14U; border-radius: 50%; background: #24406e; }
.led-strip .dots i.on { background: ACCENT; width: 34U; border-radius: 7U; }
.led-strip .dots em { font-style: normal; font-size: 22U; color: MUTED; margin-left: 10U; }

/* flip counters (翻牌器) */
.led-kpis { position: absolute; left: 32U; top: 170U; width: 1856U; height: 178U;
  display: flex; gap: 12U; }
.led-kpi { flex: 1 1 0; min-width: 0; overflow: hidden; padding: 12U 8U;
  background: linear-gradient(180deg, rgba(16,52,112,.75), rgba(8,28,66,.75));
  border: 2U solid rgba(63,208,255,.35); border-radius: 10U;
  display: flex; flex-direction: column; align-items: center; justify-content: space-between; }
.led-kpi .lab { font-size: 28U; font-weight: 700; color: #cfe3ff; white-space: nowrap; }
.led-kpi .num { display: flex; align-items: flex-end; gap: 4U; white-space: nowrap; }
.led-kpi .fd { display: inline-block; width: 42U; height: 74U; line-height: 74U; text-align: center;
  font-size: 58U; font-weight: 800; color: #fff; border-radius: 6U; position: relative;
  background: linear-gradient(180deg, #14407f 0 49%, #0b2b5e 51% 100%);
  box-shadow: inset 0 0 0 1U rgba(63,208,255,.35); animation: led-flip .6s ease-out both; }
.led-kpi .fd::after { content: ""; position: absolute; left: 0; right: 0; top: 50%; height: 2U;
  background: rgba(0,0,0,.45); }
.led-kpi .fs { display: inline-block; width: 14U; font-size: 56U; font-weight: 800; line-height: 74U;
  text-align: center; color: #fff; }
.led-kpi .unit { font-size: 24U; color: #cfe3ff; margin-left: 4U; line-height: 1.6; }
.led-kpi .na { font-size: 56U; color: MUTED; line-height: 74U; }
.led-kpi.long .lab { font-size: 22U; white-space: normal; text-align: center; line-height: 1.15;
  max-height: 52U; overflow: hidden; }
.led-kpi.long .fd { height: 64U; line-height: 64U; font-size: 50U; width: 38U; }
.led-kpi.long .fs { line-height: 64U; font-size: 48U; }
.led-kpi.long .na { line-height: 64U; }
.led-kpi.wide .num { gap: 3U; }
.led-kpi.wide .fd { width: 34U; font-size: 48U; }
.led-kpi.wide .fs { width: 12U; }
.led-kpi .delta { font-size: 22U; white-space: nowrap; color: MUTED; }
@keyframes led-flip { from { transform: rotateX(80deg); opacity: .2; } to { transform: none; opacity: 1; } }

.good { color: GOOD !important; } .bad { color: BAD !important; } .flat { color: MUTED !important; }

/* panels */
.led-main { position: absolute; left: 32U; top: 362U; width: 1856U; height: 700U;
  display: grid; grid-template-columns: 430fr 880fr 506fr; gap: 20U; }
.led-col { display: flex; flex-direction: column; gap: 20U; min-width: 0; min-height: 0; height: 700U; }
.led-col > .led-panel { flex: 1 1 0; }
.led-col > .alertp { flex: 1.25 1 0; }
.led-panel { position: relative; min-height: 0; overflow: hidden; padding: 14U 22U;
  background: rgba(8,30,72,.72); border: 2U solid rgba(63,208,255,.28); border-radius: 10U;
  display: flex; flex-direction: column; }
.led-panel { border-top: 4U solid rgba(63,208,255,.75); }
.led-panel h2 { margin: 0 0 10U 0; padding: 0; font-size: 28U; font-weight: 800; color: ACCENT;
  white-space: nowrap; font-family: FONT; line-height: 1.3; letter-spacing: 1U; }
.led-panel h2 small { font-size: 20U; color: MUTED; font-weight: 500; margin-left: 10U; }
.led-panel h2 small.warn { color: AMBER; font-weight: 700; font-size: 18U; margin-left: 8U; }
.led-empty { flex: 1; display: flex; align-items: center; justify-content: center;
  font-size: 26U; color: MUTED; }

/* ranking */
/* --rows (set per panel) shrinks type and medals when a city has more than 8 districts */
.led-rank { flex: 1; display: flex; flex-direction: column; min-height: 0; --rows: 6; }
.led-rank .row { flex: 1 1 0; min-height: 0; display: grid; align-items: center;
  grid-template-columns: 56U 1fr 120U 86U; gap: 8U; border-bottom: 1U solid rgba(63,208,255,.12);
  font-size: calc(min(30, 250 / var(--rows)) * var(--u)); }
.led-rank .no { --d: calc(min(46, 300 / var(--rows)) * var(--u)); width: var(--d); height: var(--d);
  line-height: var(--d); border-radius: 50%; text-align: center;
  font-size: calc(min(26, 220 / var(--rows)) * var(--u)); font-weight: 800; background: #1b3563; }
.led-rank .row:nth-child(1) .no { background: #c9a227; color: #1a1200; }
.led-rank .row:nth-child(2) .no { background: #9fb0c8; color: #0b1424; }
.led-rank .row:nth-child(3) .no { background: #b0703a; color: #1a0d00; }
.led-rank .nm { font-weight: 700; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.led-rank .val { text-align: right; font-weight: 800; white-space: nowrap; }
.led-rank .chg .why { font-size: 20U; font-weight: 600; color: MUTED; letter-spacing: -1U; }
.led-rank .chg { text-align: right; font-size: calc(min(26, 220 / var(--rows)) * var(--u));
  font-weight: 700; white-space: nowrap; }
.led-rank .lamp { display: inline-block; width: 14U; height: 14U; border-radius: 50%;
  margin-right: 10U; vertical-align: middle; }

/* 进步榜 / 退步榜 (district movers, kpi.read.movers) */
.led-honours { display: grid; grid-template-columns: 1fr 1fr; gap: 16U; flex: 0 0 250U; min-height: 0; }
.led-honours .led-panel { padding: 12U 12U 12U 16U; }
.led-honours h2 small { font-size: 18U; margin-left: 6U; }
.led-honours ol { list-style: none; margin: 0; padding: 0; flex: 1; display: flex; flex-direction: column; }
.led-honours li { flex: 1 1 0; display: flex; align-items: center; justify-content: space-between;
  font-size: 28U; font-weight: 700; border-bottom: 1U solid rgba(63,208,255,.12); white-space: nowrap; }
.led-honours li span { font-size: 24U; }
.led-honours .horse h2 { color: GOOD; } .led-honours .snail h2 { color: AMBER; }

/* heat grid */
.led-grid { flex: 1; display: grid; gap: 4U; min-height: 0; }
.led-grid .hd { display: flex; align-items: flex-end; justify-content: center; color: #cfe3ff;
  font-size: 21U; font-weight: 700; text-align: center; overflow: hidden; line-height: 1.15; }
.led-grid .hd.v { writing-mode: vertical-rl; text-orientation: upright; letter-spacing: 0;
  align-items: center; justify-content: flex-end; font-size: 21U; white-space: nowrap; }
.led-grid .hd:not(.v) { flex-direction: column; justify-content: flex-end; align-items: center;
  text-wrap: pretty; }
.led-grid .hd .u { white-space: nowrap; }
.led-grid .rh { display: flex; align-items: center; font-size: 28U; font-weight: 700;
  white-space: nowrap; overflow: hidden; }
.led-grid .c { display: flex; align-items: center; justify-content: center; border-radius: 4U;
  font-size: 24U; font-weight: 800; color: #fff; white-space: nowrap; overflow: hidden; }
.led-grid.wide .c { font-size: 34U; }
.led-grid.wide .hd { font-size: 22U; }
.led-legend { display: flex; gap: 22U; font-size: 20U; color: MUTED; margin-top: 8U; justify-content: flex-end; }
.led-legend i { display: inline-block; width: 18U; height: 18U; border-radius: 3U; margin-right: 6U;
  vertical-align: middle; }

/* trend */
.led-trend { flex: 1; min-height: 0; display: flex; }
.led-trend img { width: 100%; height: 100%; object-fit: contain; }

/* 预警清单 */
.led-alerts { flex: 1; min-height: 0; overflow: hidden; position: relative;
  -webkit-mask-image: linear-gradient(transparent 0, #000 6%, #000 94%, transparent 100%);
  mask-image: linear-gradient(transparent 0, #000 6%, #000 94%, transparent 100%); }
.led-alerts ul { list-style: none; margin: 0; padding: 0; }
.led-alerts li { height: 46U; display: flex; align-items: center; gap: 12U; font-size: 25U;
  border-bottom: 1U solid rgba(255,93,93,.18); white-space: nowrap; overflow: hidden; }
.led-alerts li i { flex: 0 0 14U; height: 14U; border-radius: 50%; background: BAD;
  box-shadow: 0 0 8U BAD; }
.led-alerts li b { font-weight: 800; flex: 0 0 auto; }
.led-alerts li span { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; color: #dbe7fb; }
.led-alerts li em { font-style: normal; font-weight: 800; color: BAD; flex: 0 0 auto; }
.led-alerts .roll { animation-name: led-roll; animation-timing-function: linear;
  animation-iteration-count: infinite; }
@keyframes led-roll { from { transform: translateY(0); } to { transform: translateY(-50%); } }
.led-ok { flex: 1; display: flex; align-items: center; justify-content: center; font-size: 28U;
  color: GOOD; font-weight: 700; }

/* whole-screen message (no data yet) */
.led-message { position: absolute; left: 0; top: 100U; width: 1920U; height: 980U; display: flex;
  flex-direction: column; align-items: center; justify-content: center; gap: 24U; }
.led-message .big { font-size: 64U; font-weight: 800; }
.led-message .small { font-size: 32U; color: MUTED; }
"""

_TOKENS = {
    "BG": BG,
    "TEXT": TEXT,
    "MUTED": MUTED,
    "ACCENT": ACCENT,
    "GOOD": GOOD,
    "BAD": BAD,
    "AMBER": AMBER,
    "FONT": FONT,
}


def _compile(css: str) -> str:
    css = re.sub(r"(\d+(?:\.\d+)?)U\b", r"calc(\1 * var(--u))", css)
    for token, value in _TOKENS.items():
        css = re.sub(rf"\b{token}\b", value, css)
    return css


CSS = _compile(_CSS)


def style_tag() -> str:
    return f"<style>{CSS}</style>"
