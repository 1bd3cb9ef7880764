// The editor's "rnn" sidebar tab: the workspace's rnn trainers and predictors, and for the one
// selected (in the tab's list or on the canvas) its charts, drawn with uPlot from what the runtime
// publishes over the editor's connection (retained topics rnn/trainer/<id> and rnn/predictor/<id>;
// see nodes/shared/editorFeed.ts for what a picture holds).
(function () {
    "use strict";
    if (window.RnnSidebar) {
        return;
    }
    var NS = "@rnnflow/node-red-rnn/rnn-sidebar";
    var TYPES = { "rnn-trainer": "trainer", "rnn-predictor": "predictor" };
    // Series colours legible on the light and the dark editor theme alike.
    var COLOURS = ["#3f8fd2", "#e8913a", "#4caf7a", "#c0504d", "#9b6fcf", "#8c8c8c"];
    var CHART_HEIGHT = 170;

    var pictures = {}; // node id → latest picture from the runtime
    var selectedId = null;
    var charts = []; // the uPlot instances on show
    var content, list, detail, streamSelect;
    var shownStream = null;

    function _(key, args) {
        return RED._(NS + ":rnn-sidebar." + key, args);
    }

    // Axes and text take the editor's theme colours, read when a chart is built.
    function themeColour(name, fallback) {
        var v = getComputedStyle(document.body).getPropertyValue(name);
        return v && v.trim() ? v.trim() : fallback;
    }

    function axis(opts) {
        var text = themeColour("--red-ui-primary-text-color", "#555");
        var grid = themeColour("--red-ui-secondary-border-color", "#ddd");
        return $.extend({ stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 44 }, opts || {});
    }

    function fmt(v) {
        if (v === null || v === undefined || !isFinite(v)) {
            return "–";
        }
        var a = Math.abs(v);
        return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
    }

    function rnnNodes() {
        var found = [];
        RED.nodes.eachNode(function (n) {
            if (TYPES[n.type]) {
                found.push(n);
            }
        });
        return found;
    }

    // The label the canvas shows (the node's label function, e.g. "rnn trainer adam 0.01").
    function labelOf(n) {
        return RED.utils.getNodeLabel(n, n.type);
    }

    function flowOf(n) {
        var tab = RED.nodes.workspace(n.z) || RED.nodes.subflow(n.z);
        return tab ? (tab.label || tab.name || "") : "";
    }

    function summary(picture) {
        if (!picture) {
            return _("list.noData");
        }
        if (picture.kind === "trainer") {
            var p = picture.points;
            var last = p.epoch.length ? p.epoch[p.epoch.length - 1] : 0;
            return picture.state === "running" ? _("list.running", { epoch: last, epochs: picture.epochs }) : _("state." + picture.state, { epoch: last });
        }
        var s = picture.latest !== null && picture.streams[picture.latest];
        return s ? _("list.readings", { count: s.points.time.length }) : _("list.noForecast");
    }

    function refreshList() {
        if (!list) {
            return;
        }
        list.empty();
        var nodes = rnnNodes();
        if (nodes.length === 0) {
            $("<div>", { class: "rnn-sidebar-empty" }).text(_("list.none")).appendTo(list);
        }
        ["rnn-trainer", "rnn-predictor"].forEach(function (type) {
            nodes.filter(function (n) { return n.type === type; }).forEach(function (n) {
                var row = $("<div>", { class: "rnn-sidebar-item", "data-node-id": n.id, "data-kind": TYPES[type] }).appendTo(list);
                $("<i>", { class: "fa " + (type === "rnn-trainer" ? "fa-line-chart" : "fa-crosshairs") }).appendTo(row);
                $("<span>", { class: "rnn-sidebar-item-label" }).text(labelOf(n)).appendTo(row);
                $("<span>", { class: "rnn-sidebar-item-info" }).text(summary(pictures[n.id])).appendTo(row);
                var flow = flowOf(n);
                if (flow) {
                    row.attr("title", flow);
                }
                row.toggleClass("selected", n.id === selectedId);
                row.on("click", function () {
                    select(n.id);
                });
            });
        });
        if (selectedId && !RED.nodes.node(selectedId)) {
            select(null);
        }
    }

    function select(id) {
        if (id === selectedId) {
            return;
        }
        selectedId = id;
        shownStream = null;
        list.children(".rnn-sidebar-item").each(function () {
            $(this).toggleClass("selected", $(this).attr("data-node-id") === id);
        });
        draw(true);
    }

    function destroyCharts() {
        charts.forEach(function (c) {
            c.plot.destroy();
        });
        charts = [];
    }

    function chartWidth() {
        return Math.max(200, (detail.width() || 300) - 4);
    }

    // One chart: a title, then uPlot. `key` names it for the page (and for the browser test).
    function addChart(key, title, opts, data) {
        var box = $("<div>", { class: "rnn-sidebar-chart", "data-chart": key }).appendTo(detail);
        $("<div>", { class: "rnn-sidebar-chart-title" }).text(title).appendTo(box);
        opts.width = chartWidth();
        opts.height = CHART_HEIGHT;
        opts.legend = { show: true, live: false };
        opts.cursor = opts.cursor || { drag: { x: true, y: false } };
        var plot = new window.uPlot(opts, data, box[0]);
        charts.push({ key: key, plot: plot });
        return plot;
    }

    function line(label, colour, extra) {
        return $.extend({ label: label, stroke: colour, width: 1.5, spanGaps: false, points: { show: false } }, extra || {});
    }

    // A series drawn as marks only (refused steps, anomalies).
    function marks(label, colour, size, extra) {
        return $.extend({ label: label, stroke: colour, fill: colour, width: 0, paths: function () { return null; }, points: { show: true, size: size, stroke: colour, fill: colour } }, extra || {});
    }

    // A log scale where the values are positive and span more than a decade or so; a narrow
    // range on one would show as a flat line between two powers of ten.
    function wantsLog(arrays) {
        var min = Infinity;
        var max = -Infinity;
        var positive = arrays.every(function (a) {
            return a.every(function (v) {
                if (v === null) {
                    return true;
                }
                min = Math.min(min, v);
                max = Math.max(max, v);
                return v > 0;
            });
        });
        return positive && max / min > 20;
    }

    function constant(n, v) {
        var out = [];
        for (var i = 0; i < n; i++) {
            out.push(v);
        }
        return out;
    }

    function note(text) {
        $("<div>", { class: "rnn-sidebar-note" }).text(text).appendTo(detail);
    }

    function drawTrainer(picture) {
        var p = picture.points;
        var n = p.epoch.length;
        var head = $("<div>", { class: "rnn-sidebar-head" }).appendTo(detail);
        var last = n ? p.epoch[n - 1] : 0;
        head.text(picture.state === "running" ? _("list.running", { epoch: last, epochs: picture.epochs }) : _("state." + picture.state, { epoch: last }));
        if (picture.bestEpoch !== null) {
            head.append($("<span>").text(" · " + _("trainer.best", { epoch: picture.bestEpoch })));
        }
        if (picture.stride > 1) {
            note(_("trainer.decimated", { stride: picture.stride }));
        }
        if (n === 0) {
            note(_("trainer.waiting"));
            return;
        }
        var hasVal = p.valLoss.some(function (v) { return v !== null; });
        var lossSeries = [{ label: _("trainer.epoch") }, line(_("trainer.loss"), COLOURS[0])];
        var lossData = [p.epoch, p.loss];
        if (hasVal) {
            lossSeries.push(line(_("trainer.valLoss"), COLOURS[1]));
            lossData.push(p.valLoss);
        }
        var logLoss = wantsLog(lossData.slice(1));
        addChart("loss", _("trainer.lossTitle"), { scales: { x: { time: false }, y: logLoss ? { distr: 3 } : {} }, series: lossSeries, axes: [axis(), axis({ size: 56 })] }, lossData);

        // Against the naive rules: in real units, the only unit the baselines have.
        var b = picture.baselines;
        if (p.valRmse.some(function (v) { return v !== null; })) {
            var rmseSeries = [{ label: _("trainer.epoch") }, line(_("trainer.valRmse"), COLOURS[2])];
            var rmseData = [p.epoch, p.valRmse];
            if (b && b.persistence !== null) {
                rmseSeries.push(line(_("trainer.persistence"), COLOURS[3], { dash: [6, 4], width: 1 }));
                rmseData.push(constant(n, b.persistence));
            }
            if (b && b.seasonal !== null) {
                rmseSeries.push(line(_("trainer.seasonal", { season: b.season }), COLOURS[4], { dash: [2, 3], width: 1 }));
                rmseData.push(constant(n, b.seasonal));
            }
            addChart("rmse", _("trainer.rmseTitle"), { scales: { x: { time: false } }, series: rmseSeries, axes: [axis(), axis({ size: 56 })] }, rmseData);
        }

        var skipped = p.skipped.map(function (v) { return v > 0 ? v : null; });
        addChart("lr", _("trainer.lrTitle"), {
            scales: { x: { time: false }, lr: { distr: wantsLog([p.lr]) ? 3 : 1 }, steps: { range: function (u, min, max) { return [0, Math.max(1, max || 0)]; } } },
            series: [{ label: _("trainer.epoch") }, line(_("trainer.lr"), COLOURS[0], { scale: "lr" }), marks(_("trainer.refused"), COLOURS[3], 7, { scale: "steps" })],
            axes: [axis(), axis({ scale: "lr", size: 56 }), axis({ scale: "steps", side: 1, grid: { show: false }, size: 36 })]
        }, [p.epoch, p.lr, skipped]);

        var g = picture.gradient;
        if (g && g.layers.length && g.layers[0].length) {
            var T = g.layers[0].length;
            var steps = [];
            for (var t = 0; t < T; t++) {
                steps.push(t - (T - 1));
            }
            var gSeries = [{ label: _("trainer.timeStep") }];
            var gData = [steps];
            g.layers.forEach(function (l, k) {
                gSeries.push(line(_("trainer.layer", { layer: k + 1 }), COLOURS[k % COLOURS.length]));
                // Zero has no place on a log scale: such a step is left as a gap.
                gData.push(l.map(function (v) { return v > 0 ? v : null; }));
            });
            addChart("gradient", _("trainer.gradientTitle", { epoch: g.epoch }), { scales: { x: { time: false }, y: { distr: 3 } }, series: gSeries, axes: [axis(), axis({ size: 56 })] }, gData);
        } else {
            note(_("trainer.noGradient"));
        }
    }

    function drawPredictor(picture) {
        var names = Object.keys(picture.streams);
        if (names.length === 0) {
            note(_("predictor.waiting"));
            return;
        }
        if (shownStream === null || names.indexOf(shownStream) === -1) {
            shownStream = picture.latest !== null ? picture.latest : names[0];
        }
        if (names.length > 1) {
            streamSelect = $("<select>", { class: "rnn-sidebar-stream" }).appendTo(detail);
            names.forEach(function (name) {
                $("<option>").val(name).text(name === "" ? _("predictor.noTopic") : name).appendTo(streamSelect);
            });
            streamSelect.val(shownStream).on("change", function () {
                shownStream = $(this).val();
                draw(true);
            });
        }
        var s = picture.streams[shownStream];
        var p = s.points;
        var time = p.time.map(function (t) { return t / 1000; });
        var actual = p.actual.slice();
        var predicted = p.predicted.slice();
        var lower = p.lower.slice();
        var upper = p.upper.slice();
        // The latest forecast, placed `ahead` readings on at the recent spacing of the readings.
        if (s.next && s.next.predicted !== null && time.length > 1) {
            var span = (time[time.length - 1] - time[0]) / (time.length - 1);
            time.push(time[time.length - 1] + span * s.next.ahead);
            actual.push(null);
            predicted.push(s.next.predicted);
            lower.push(s.next.lower);
            upper.push(s.next.upper);
        }
        var anomalies = actual.map(function (v, i) { return p.anomaly[i] ? v : null; });
        var level = s.level !== null ? Math.round(s.level * 100) : null;
        var hasBand = lower.some(function (v) { return v !== null; });
        var series = [
            {},
            line(_("predictor.reading"), COLOURS[0]),
            line(_("predictor.forecast"), COLOURS[1], { dash: [5, 3] }),
            line(level !== null ? _("predictor.lower", { level: level }) : _("predictor.lowerPlain"), "rgba(232,145,58,0.45)", { width: 1 }),
            line(level !== null ? _("predictor.upper", { level: level }) : _("predictor.upperPlain"), "rgba(232,145,58,0.45)", { width: 1 }),
            marks(_("predictor.anomaly"), COLOURS[3], 9)
        ];
        var opts = { scales: { x: { time: true } }, series: series, axes: [axis({ size: 50 }), axis({ size: 56 })] };
        if (hasBand) {
            opts.bands = [{ series: [4, 3], fill: "rgba(232,145,58,0.18)" }];
        }
        addChart("forecast", _("predictor.title"), opts, [time, actual, predicted, lower, upper, anomalies]);
        if (!hasBand) {
            note(_("predictor.noIntervals"));
        }
    }

    // Builds the selected node's charts from its latest picture (rebuilt, not updated: a
    // picture is small, and a rebuild follows any change of series or width).
    function draw(force) {
        if (!detail) {
            return;
        }
        // An unchanged view need not be rebuilt while the tab is hidden.
        if (!force && !detail.is(":visible")) {
            return;
        }
        destroyCharts();
        detail.empty();
        var n = selectedId && RED.nodes.node(selectedId);
        if (!n) {
            note(_("detail.choose"));
            return;
        }
        $("<div>", { class: "rnn-sidebar-title" }).text(labelOf(n)).appendTo(detail);
        var picture = pictures[selectedId];
        detail.attr("data-node-id", selectedId);
        if (!picture) {
            note(TYPES[n.type] === "trainer" ? _("trainer.waiting") : _("predictor.waiting"));
            return;
        }
        if (picture.kind === "trainer") {
            drawTrainer(picture);
        } else {
            drawPredictor(picture);
        }
    }

    var pendingDraw = null;
    function onPicture(topic, picture) {
        var id = topic.split("/")[2];
        if (picture === null || picture === undefined) {
            delete pictures[id];
        } else {
            pictures[id] = picture;
        }
        list.children('[data-node-id="' + id + '"]').children(".rnn-sidebar-item-info").text(summary(pictures[id]));
        // Pictures come a few times a second per node: one redraw per frame at most.
        if (id === selectedId && !pendingDraw) {
            pendingDraw = requestAnimationFrame(function () {
                pendingDraw = null;
                draw(false);
            });
        }
    }

    // The canvas selection leads: one rnn trainer or predictor selected there is shown here.
    function onSelection(selection) {
        var nodes = selection && selection.nodes ? selection.nodes : [];
        if (nodes.length === 1 && TYPES[nodes[0].type]) {
            select(nodes[0].id);
        }
    }

    function init() {
        content = $("<div>", { class: "rnn-sidebar" });
        list = $("<div>", { class: "rnn-sidebar-list" }).appendTo(content);
        detail = $("<div>", { class: "rnn-sidebar-detail" }).appendTo(content);
        RED.sidebar.addTab({
            id: "rnn",
            label: _("tab.label"),
            name: _("tab.name"),
            iconClass: "fa fa-line-chart",
            content: content,
            enableOnEdit: true,
            onchange: function () {
                refreshList();
                draw(true);
            }
        });
        RED.comms.subscribe("rnn/trainer/+", onPicture);
        RED.comms.subscribe("rnn/predictor/+", onPicture);
        ["nodes:add", "nodes:remove", "nodes:change", "flows:loaded", "workspace:change"].forEach(function (e) {
            RED.events.on(e, function () {
                refreshList();
            });
        });
        RED.events.on("view:selection-changed", onSelection);
        RED.events.on("sidebar:resize", function () {
            var w = chartWidth();
            charts.forEach(function (c) {
                c.plot.setSize({ width: w, height: CHART_HEIGHT });
            });
        });
        refreshList();
        draw(true);
    }

    // What the browser test reads: the charts on show and the data they draw.
    function shown() {
        return {
            id: selectedId,
            charts: charts.map(function (c) {
                return { key: c.key, data: c.plot.data, series: c.plot.series.map(function (s) { return s.label; }), bands: (c.plot.bands || []).length };
            })
        };
    }

    window.RnnSidebar = Object.freeze({ init: init, select: select, shown: shown });
})();
