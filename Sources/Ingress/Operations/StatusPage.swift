import SluiceCore

/// Renders the `/v1/status` figures as one HTML page: inline CSS, inline SVG charts drawn
/// here, and a few lines of script for the replay button and the reload every 5 s. Nothing is
/// fetched from elsewhere (no CDN, no build step).
///
/// Every string from the figures is escaped: tenant names, models and provider error messages
/// are data, not markup.
enum StatusPage {
    static func render(_ status: JSONValue) -> String {
        let history = status["history"]?.arrayValue ?? []
        let totals = status["totals"]
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Sluice status</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            body{font:14px system-ui,sans-serif;margin:24px;color:#1d2430;background:#f6f7f9}
            h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
            .sub{color:#5b6472;margin-bottom:16px}
            .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
            section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px}
            table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f3}
            th{color:#5b6472;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
            .closed{color:#137333}.half_open{color:#b06000}.open{color:#c5221f;font-weight:700}
            .legend span{margin-right:12px}.k{display:inline-block;width:10px;height:10px;margin-right:4px}
            svg.chart{width:100%;height:auto;background:#fbfcfd;border:1px solid #eef0f3}
            .muted{color:#8a93a0}
            </style></head><body>
            <h1>Sluice</h1>
            <div class="sub">\(escape(status["role"]?.stringValue ?? "")) · \(escape(status["instance"]?.stringValue ?? "")) · \
            accepted \(int(totals?["accepted"])) · finished \(int(totals?["finished"])) · failed \(int(totals?["failed"])) · \
            backlog \(int(totals?["backlog"]))</div>
            <div class="grid">

            """
        html += section("Backlog (jobs waiting or running here)", chart(
            id: "backlog", history: history, series: [("backlog", "#1a73e8")]))
        html += section("Throughput (per second)", chart(
            id: "throughput", history: history,
            series: [("accepted_per_s", "#1a73e8"), ("finished_per_s", "#137333"), ("failed_per_s", "#c5221f")]))
        html += section("Latency (recent jobs, seconds)", latencyTable(status["latency_seconds"]))
        html += section("Tenants (newest \(int(status["ledger_window"])) results)", tenantTable(status))
        html += section("Providers and breakers", deploymentTable(status["deployments"]?.arrayValue ?? []))
        html += section("Recent failures", failureTable(status["recent_failures"]?.arrayValue ?? []))
        html += section("Dead letters", deadLetters(status["dlq"]))
        html += """
            </div>
            <script>
            // Reload every 5 s unless an admin is typing a key.
            setInterval(function(){var k=document.getElementById('admin-key');if(!k||!k.value){location.reload();}},5000);
            function replayDLQ(){
              var key=document.getElementById('admin-key').value,out=document.getElementById('replay-result');
              out.textContent='replaying…';
              fetch('/v1/admin/dlq/replay',{method:'POST',headers:{'Authorization':'Bearer '+key}})
                .then(function(r){return r.text().then(function(t){out.textContent=r.status+' '+t;});})
                .catch(function(e){out.textContent=String(e);});
            }
            </script>
            </body></html>

            """
        return html
    }

    // MARK: - Parts

    private static func section(_ title: String, _ body: String) -> String {
        "<section><h2>\(escape(title))</h2>\n\(body)\n</section>\n"
    }

    /// A line chart of `series` (history field, colour) over the history, scaled to the largest
    /// value. `data-max` and `data-points` on the `<svg>` say what it shows.
    static func chart(id: String, history: [JSONValue], series: [(String, String)]) -> String {
        let width = 600.0, height = 180.0, pad = 24.0
        let values = series.map { field in history.map { $0[field.0]?.number ?? 0 } }
        let peak = values.flatMap { $0 }.filter(\.isFinite).max() ?? 0
        let scale = peak > 0 ? peak : 1
        var svg = """
            <svg class="chart" data-chart="\(id)" data-points="\(history.count)" data-max="\(format(peak))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" xmlns="http://www.w3.org/2000/svg" role="img">
            <line x1="\(pad)" y1="\(height - pad)" x2="\(width - pad)" y2="\(height - pad)" stroke="#c9ced6"/>
            <text x="\(pad)" y="14" font-size="11" fill="#5b6472">max \(format(peak))</text>

            """
        if history.count < 2 {
            svg += "<text x=\"\(pad)\" y=\"\(height / 2)\" font-size=\"12\" fill=\"#8a93a0\">collecting samples…</text>\n"
        }
        for (index, (field, colour)) in series.enumerated() where history.count >= 2 {
            let step = (width - 2 * pad) / Double(history.count - 1)
            let points = values[index].enumerated().map { i, v in
                let y = height - pad - (v.isFinite ? max(0, v) : 0) / scale * (height - 2 * pad)
                return "\(format(pad + Double(i) * step)),\(format(y))"
            }.joined(separator: " ")
            let seriesPeak = values[index].filter(\.isFinite).max() ?? 0
            svg += """
                <polyline data-series="\(field)" data-max="\(format(seriesPeak))" fill="none" stroke="\(colour)" \
                stroke-width="2" points="\(points)"/>

                """
        }
        svg += "</svg>\n<div class=\"legend\">"
            + series.map { "<span><i class=\"k\" style=\"background:\($0.1)\"></i>\(escape($0.0))</span>" }.joined() + "</div>"
        return svg
    }

    private static func latencyTable(_ latency: JSONValue?) -> String {
        var rows = "<table><tr><th>stage</th><th class=num>p50</th><th class=num>p90</th><th class=num>p99</th><th class=num>samples</th></tr>"
        for (key, name) in [("queue_wait", "queue wait"), ("provider", "provider call"), ("end_to_end", "end to end")] {
            let entry = latency?[key]
            rows += "<tr data-latency=\"\(key)\"><td>\(name)</td>"
                + ["p50", "p90", "p99"].map { "<td class=num>\(entry?[$0]?.number.map(format) ?? "–")</td>" }.joined()
                + "<td class=num>\(int(entry?["samples"]))</td></tr>"
        }
        return rows + "</table>"
    }

    private static func tenantTable(_ status: JSONValue) -> String {
        if let error = status["ledger_error"]?.stringValue { return "<p class=muted>ledger unavailable: \(escape(error))</p>" }
        let tenants = status["tenants"]?.arrayValue ?? []
        guard !tenants.isEmpty else { return "<p class=muted>no results yet</p>" }
        var rows = "<table><tr><th>tenant</th><th class=num>succeeded</th><th class=num>failed</th><th class=num>tokens</th><th class=num>cost</th></tr>"
        for t in tenants {
            let cost = (t["cost"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
                .map { "\(format($0.value.number ?? 0)) \(escape($0.key))" }.joined(separator: ", ")
            rows += "<tr data-tenant=\"\(escape(t["tenant"]?.stringValue ?? ""))\"><td>\(escape(t["tenant"]?.stringValue ?? ""))</td>"
                + "<td class=num>\(int(t["succeeded"]))</td><td class=num>\(int(t["failed"]))</td>"
                + "<td class=num>\(int(t["total_tokens"]))</td><td class=num>\(cost.isEmpty ? "–" : cost)</td></tr>"
        }
        return rows + "</table>"
    }

    private static func deploymentTable(_ deployments: [JSONValue]) -> String {
        guard !deployments.isEmpty else { return "<p class=muted>no workers in this process</p>" }
        var rows = "<table><tr><th>deployment</th><th>provider</th><th>model</th><th>breaker</th><th class=num>in flight</th></tr>"
        for d in deployments {
            let breaker = d["breaker"]?.stringValue ?? "closed"
            let css = ["closed", "half_open", "open"].contains(breaker) ? breaker : "closed"
            rows += "<tr data-deployment=\"\(escape(d["label"]?.stringValue ?? ""))\"><td>\(escape(d["label"]?.stringValue ?? ""))</td>"
                + "<td>\(escape(d["provider"]?.stringValue ?? ""))</td><td>\(escape(d["model"]?.stringValue ?? ""))</td>"
                + "<td class=\"\(css)\" data-breaker=\"\(css)\">\(escape(breaker))</td><td class=num>\(int(d["in_flight"]))</td></tr>"
        }
        return rows + "</table>"
    }

    private static func failureTable(_ failures: [JSONValue]) -> String {
        guard !failures.isEmpty else { return "<p class=muted>none among the newest results</p>" }
        var rows = "<table><tr><th>job</th><th>tenant</th><th>model</th><th>code</th><th>message</th></tr>"
        for f in failures {
            rows += "<tr data-failure><td><code>\(escape(f["job_id"]?.stringValue ?? ""))</code></td>"
                + "<td>\(escape(f["tenant"]?.stringValue ?? ""))</td><td>\(escape(f["model"]?.stringValue ?? ""))</td>"
                + "<td>\(escape(f["code"]?.stringValue ?? ""))</td><td>\(escape(f["message"]?.stringValue ?? ""))</td></tr>"
        }
        return rows + "</table>"
    }

    private static func deadLetters(_ dlq: JSONValue?) -> String {
        let size = dlq.map { "\(int($0["size"]))\($0["capped"]?.flag == true ? "+" : "")" } ?? "not counted yet"
        var html = "<p>Unreplayed records in the DLQ: <strong id=\"dlq-size\">\(size)</strong></p>"
        if let error = dlq?["error"]?.stringValue { html += "<p class=muted>last count failed: \(escape(error))</p>" }
        html += """
            <p><input id="admin-key" type="password" placeholder="admin API key" autocomplete="off" size="28">
            <button type="button" onclick="replayDLQ()">Replay the DLQ</button></p>
            <pre id="replay-result" class="muted"></pre>
            """
        return html
    }

    // MARK: - Text

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    private static func int(_ value: JSONValue?) -> String {
        value?.intValue.map(String.init) ?? "0"
    }

    /// At most three decimals, no trailing zeros.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 1_000).rounded() / 1_000
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(rounded)
    }
}

extension JSONValue {
    /// Any JSON number as a Double.
    fileprivate var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    fileprivate var flag: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
}
