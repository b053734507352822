/// The dashboard's whole stylesheet, inlined into each page: system fonts only, nothing fetched.
enum DashboardStyle {
    static let css = """
        :root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#667085;--line:#e3e6eb;--accent:#2f6fde;--warn:#d97706;--bad:#d23c3c;--ok:#16a34a}
        @media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1c2027;--ink:#e6e8ec;--muted:#98a2b3;--line:#2c323b;--accent:#5b8def}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;padding:14px 24px;border-bottom:1px solid var(--line);background:var(--card)}
        header h1{font-size:18px;margin:0}
        main{padding:20px 24px;max-width:1400px;margin:0 auto}
        a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
        .muted{color:var(--muted)}
        .num{font-variant-numeric:tabular-nums}
        section{margin:0 0 22px}
        h2{font-size:15px;margin:0 0 10px}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px}
        .card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
        .card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .card .value{font-size:22px;font-weight:600;margin:4px 0 2px;word-break:break-all}
        .card .sub{color:var(--muted);font-size:12px}
        .panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px;overflow-x:auto}
        .grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}
        table{width:100%;border-collapse:collapse}
        th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        th{color:var(--muted);font-weight:500;font-size:12px}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        td.name{max-width:170px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .chart{width:100%;height:auto;display:block}
        .chart .axis{stroke:var(--muted);stroke-width:1}
        .chart .grid{stroke:var(--line);stroke-width:1}
        .chart .tick{fill:var(--muted);font-size:11px}
        .chart .bar{fill:var(--accent)}
        .chart .bar:hover{opacity:.75}
        .chart .empty{fill:var(--muted);font-size:14px}
        .meter{position:relative;height:10px;min-width:120px;border-radius:5px;background:var(--line);overflow:hidden;display:flex}
        .meter .spent{background:var(--ok)}
        .meter .spent.high{background:var(--warn)}
        .meter .spent.over{background:var(--bad)}
        .meter .reserved{background:var(--accent);opacity:.45}
        .chips{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 0 14px}
        .chip{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:2px 10px}
        form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin-top:10px}
        form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
        input{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--ink)}
        button{font:inherit;padding:5px 12px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--ink);cursor:pointer}
        button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
        .error{background:#fde8e8;color:#8a1c1c;border:1px solid #f5b5b5;border-radius:8px;padding:8px 12px}
        .yes{color:var(--ok)}.no{color:var(--bad)}
        .login{max-width:380px;margin:12vh auto;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:24px}
        .login input{width:100%;margin:8px 0 14px}
        footer{padding:10px 24px 24px;color:var(--muted);font-size:12px;text-align:center}
        """
}
