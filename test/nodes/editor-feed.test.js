"use strict";
// What the editor's rnn sidebar is sent over RED.comms: the feed on its own (bounds, coalescing,
// close), then through real trainer and predictor nodes, whose pictures must hold exactly what the
// nodes sent on their outputs.
const assert = require("assert");
const path = require("path");
const { EventEmitter } = require("events");
const { TrainerFeed, PredictorFeed, MAX_EPOCHS, MAX_READINGS, MAX_STREAMS, trainerTopic, predictorTopic } = require("../../dist/nodes/shared/editorFeed");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, waitFor, noisySineSeries } = require("../helpers/nodes");

/** A runtime whose RED.comms.publish records what it is given. */
function fakeRuntime() {
  const published = [];
  return { published, RED: { comms: { publish: (topic, data, retain) => published.push({ topic, data: JSON.parse(JSON.stringify(data)), retain }) } } };
}

/** A node as the feed sees it: an id and close handlers, closed with `close(removed)`. */
function fakeNode(id) {
  const node = new EventEmitter();
  node.id = id;
  node.close = (removed) => new Promise((resolve) => node.emit("close", removed, resolve));
  return node;
}

const epochPayload = (epoch, extra = {}) => ({ epoch, epochs: 0, loss: 1 / epoch, valLoss: 2 / epoch, lr: 0.01, skipped: 0, metrics: { rmse: 3 / epoch }, ...extra });

/** Node-RED's event bus, which RED.comms.publish speaks on in the test runtime as in the real one. */
const events = require(require.resolve("@node-red/util", { paths: [path.dirname(process.env.NODE_RED_PATH || require.resolve("node-red"))] })).events;

describe("editor feed (the rnn sidebar's data)", function () {
  describe("on its own", function () {
    it("publishes a run's start at once, retained, on rnn/trainer/<id>, and coalesces the epochs after it", async function () {
      const { RED, published } = fakeRuntime();
      const feed = new TrainerFeed(RED, fakeNode("t1"));
      feed.start(50);
      for (let e = 1; e <= 50; e++) feed.epoch(epochPayload(e));
      // Fifty epochs in one go: the start went out, the epochs wait for the next publication.
      assert.strictEqual(published.length, 1);
      assert.deepStrictEqual(published[0], { topic: trainerTopic("t1"), retain: true, data: { kind: "trainer", state: "running", epochs: 50, bestEpoch: null, stride: 1, points: { epoch: [], loss: [], valLoss: [], valRmse: [], lr: [], skipped: [] }, baselines: null, gradient: null } });
      await waitFor(() => published.length === 2, 5000, "the coalesced publication");
      const p = published[1];
      assert.strictEqual(p.retain, true);
      assert.deepStrictEqual(p.data.points.epoch, Array.from({ length: 50 }, (_, i) => i + 1));
      assert.deepStrictEqual(p.data.points.valRmse, p.data.points.epoch.map((e) => 3 / e));
      feed.end("completed", 7);
      assert.strictEqual(published.length, 3, "the end goes out at once");
      assert.deepStrictEqual([published[2].data.state, published[2].data.bestEpoch], ["completed", 7]);
    });

    it("keeps at most MAX_EPOCHS epochs of a long run: every k-th from the first, and always the latest", function () {
      const { RED } = fakeRuntime();
      const feed = new TrainerFeed(RED, fakeNode("t1"));
      feed.start(5000);
      for (let n = 1; n <= 3001; n++) {
        feed.epoch(epochPayload(n));
        // Checked as it grows, not only at the end: the bound holds at every epoch.
        const picture = feed["picture"];
        const kept = picture.points.epoch;
        assert.ok(kept.length <= MAX_EPOCHS, `${kept.length} epochs kept after ${n}`);
        assert.strictEqual(kept[kept.length - 1], n, "the latest epoch is kept");
        const grid = kept.slice(0, -1);
        assert.ok(grid.every((e, i) => e === 1 + i * picture.stride), `epochs on a grid of ${picture.stride} after ${n}: ${grid.slice(0, 5)}…`);
        for (const column of Object.values(picture.points)) assert.strictEqual(column.length, kept.length);
      }
      const picture = feed["picture"];
      assert.strictEqual(picture.stride, 8);
      assert.deepStrictEqual(picture.points.loss, picture.points.epoch.map((e) => 1 / e), "each column stays with its epoch");
    });

    it("clears the picture at a run's start", function () {
      const { RED, published } = fakeRuntime();
      const feed = new TrainerFeed(RED, fakeNode("t1"));
      feed.start(3);
      feed.epoch(epochPayload(1, { dhNormLayers: [[1, 2]], baselines: { best: "persistence", persistence: { rmse: 0.5 }, seasonal: null } }));
      feed.end("completed", 1);
      feed.start(4);
      const last = published[published.length - 1].data;
      assert.deepStrictEqual([last.state, last.epochs, last.points.epoch, last.baselines, last.gradient], ["running", 4, [], null, null]);
    });

    it("drops its buffer on close and publishes nothing after it; a removed node's retained picture is removed", async function () {
      const { RED, published } = fakeRuntime();
      const node = fakeNode("t1");
      const feed = new TrainerFeed(RED, node);
      feed.start(10);
      feed.epoch(epochPayload(1)); // waits for the next publication…
      await node.close(false); // …which the close cancels
      assert.strictEqual(feed["picture"].points.epoch.length, 0, "the buffer is dropped");
      feed.epoch(epochPayload(2));
      feed.end("stopped", null);
      await new Promise((r) => setTimeout(r, 400));
      assert.strictEqual(published.length, 1, "only the start was published");

      const other = fakeNode("t2");
      new TrainerFeed(RED, other).start(1);
      await other.close(true);
      assert.deepStrictEqual(published[published.length - 1], { topic: trainerTopic("t2"), data: null, retain: false });
    });

    it("does nothing, and throws nothing, where the runtime has no RED.comms", function () {
      const feed = new TrainerFeed({}, fakeNode("t1"));
      feed.start(1);
      feed.epoch(epochPayload(1));
      feed.end("completed", 1);
      const p = new PredictorFeed({ comms: {} }, fakeNode("p1"));
      p.reading({ stream: "", time: 1, actual: 1, forecast: { values: [[1]], lower: null, upper: null, level: null }, ahead: 1 });
    });

    it("keeps the last MAX_READINGS readings of at most MAX_STREAMS streams of a predictor", async function () {
      const { RED, published } = fakeRuntime();
      const feed = new PredictorFeed(RED, fakeNode("p1"));
      const total = MAX_READINGS + 50;
      for (let i = 0; i < total; i++) {
        feed.reading({ stream: "a", time: 1000 * i, actual: i, previous: { predicted: i + 0.5, lower: [i - 1], upper: [i + 1], anomaly: i === total - 1 }, forecast: { values: [[i + 1]], lower: [[i]], upper: [[i + 2]], level: 0.9 }, ahead: 1 });
      }
      for (let s = 0; s < MAX_STREAMS + 2; s++) feed.reading({ stream: `s${s}`, time: 0, actual: s, forecast: { values: [[0]], lower: null, upper: null, level: null }, ahead: 1 });
      await waitFor(() => published.length >= 2 && published[published.length - 1].data.latest === `s${MAX_STREAMS + 1}`, 5000, "the coalesced publication");
      const last = published[published.length - 1];
      assert.strictEqual(last.topic, predictorTopic("p1"));
      assert.strictEqual(last.retain, true);
      const names = Object.keys(last.data.streams);
      assert.strictEqual(names.length, MAX_STREAMS);
      assert.ok(!names.includes("a"), "the stream read least recently went first");
      feed.reading({ stream: "a", time: 0, actual: 0, forecast: { values: [[0]], lower: null, upper: null, level: null }, ahead: 1 });
      const a = feed["streams"].get("a");
      assert.strictEqual(a.points.time.length, 1, "a dropped stream starts afresh");

      const again = new PredictorFeed(RED, fakeNode("p2"));
      for (let i = 0; i < total; i++) again.reading({ stream: "a", time: 1000 * i, actual: i, previous: { predicted: i + 0.5, lower: [i - 1], upper: [i + 1], anomaly: i === total - 1 }, forecast: { values: [[i + 1]], lower: [[i]], upper: [[i + 2]], level: 0.9 }, ahead: 1 });
      const kept = again["streams"].get("a");
      assert.strictEqual(kept.points.time.length, MAX_READINGS);
      assert.deepStrictEqual(kept.points.actual, Array.from({ length: MAX_READINGS }, (_, k) => total - MAX_READINGS + k));
      assert.deepStrictEqual(kept.points.lower.slice(-1), [total - 2]);
      assert.deepStrictEqual(kept.points.anomaly.slice(-2), [false, true]);
      assert.deepStrictEqual(kept.next, { ahead: 1, predicted: total, lower: total - 1, upper: total + 1 });
    });
  });

  describe("from the trainer and predictor nodes", function () {
    this.timeout(60000);
    useNodeRedServer({ userDir: true });
    let published;
    const record = (e) => published.push({ topic: e.topic, data: e.data === null ? null : JSON.parse(JSON.stringify(e.data)), retain: e.retain });
    beforeEach(() => {
      published = [];
      events.on("comms", record);
    });
    afterEach(() => events.removeListener("comms", record));

    const of = (topic) => published.filter((p) => p.topic === topic);

    it("draws exactly the epochs the trainer sends, retained, and starts afresh with each run", async function () {
      await helper.load(NODES, chain({ sequence: { epochs: 5 }, trainer: { gradientReport: true } }));
      const topic = trainerTopic("trainer");
      for (let run = 1; run <= 2; run++) {
        const epochs = collect(helper.getNode("epochs"));
        const finished = nextMessage(helper.getNode("done"));
        const before = of(topic).length;
        helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(300, run) });
        const done = await finished;
        await waitFor(() => of(topic).slice(before).some((p) => p.data.state === "completed"), 5000, "the run's last picture");
        const pictures = of(topic).slice(before);
        assert.ok(pictures.every((p) => p.retain === true));
        assert.deepStrictEqual(pictures[0].data.points.epoch, [], "a run starts with an empty picture");
        const last = pictures[pictures.length - 1].data;
        const sent = epochs.map((m) => m.payload);
        assert.deepStrictEqual(last.points, {
          epoch: sent.map((p) => p.epoch),
          loss: sent.map((p) => p.loss),
          valLoss: sent.map((p) => p.valLoss),
          valRmse: sent.map((p) => p.metrics.rmse),
          lr: sent.map((p) => p.lr),
          skipped: sent.map((p) => p.skipped),
        });
        assert.strictEqual(last.bestEpoch, done.payload.bestEpoch);
        assert.strictEqual(last.baselines.persistence, done.payload.baselines.persistence.rmse);
        assert.deepStrictEqual(last.gradient, { epoch: 5, layers: sent[4].dhNormLayers });
      }
    });

    it("draws the predictor's readings against the forecasts made for them, with their interval", async function () {
      await helper.load(NODES, chain({ sequence: { epochs: 3 }, predictor: { anomaly: "error" } }));
      const finished = nextMessage(helper.getNode("done"));
      helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(300) });
      await finished;
      // The intervals are calibrated after the done message is prepared: wait until the model has them.
      await waitFor(() => helper.getNode("trainer").rnnApi.getModel()?.model.intervals, 20000, "calibrated intervals");
      const forecasts = collect(helper.getNode("forecasts"));
      const readings = noisySineSeries(60, 3);
      const pred = helper.getNode("pred");
      readings.forEach((v, i) => pred.receive({ topic: "sensor", payload: v, timestamp: 1000 * (i + 1) }));
      await waitFor(() => forecasts.length === readings.length - 11, 10000, "the forecasts");
      const topic = predictorTopic("pred");
      await waitFor(() => of(topic).some((p) => p.data.streams.sensor && p.data.streams.sensor.points.time.length === forecasts.length), 5000, "the last picture");
      const s = of(topic).pop().data.streams.sensor;
      // One point per forecast, at the time and value of the reading it was made from.
      assert.deepStrictEqual(s.points.time, readings.slice(11).map((_, i) => 1000 * (i + 12)));
      assert.deepStrictEqual(s.points.actual, readings.slice(11));
      const prev = forecasts.map((m) => m.forecast.previous);
      assert.deepStrictEqual(s.points.predicted, prev.map((p) => (p ? p.predicted : null)));
      assert.deepStrictEqual(s.points.lower, prev.map((p) => (p ? p.lower : null)));
      assert.deepStrictEqual(s.points.upper, prev.map((p) => (p ? p.upper : null)));
      assert.deepStrictEqual(s.points.anomaly, prev.map((p) => !!(p && p.anomaly)));
      assert.ok(s.points.lower.slice(1).every((v, i) => v < s.points.upper[i + 1]), "a band: lower below upper");
      const latest = forecasts[forecasts.length - 1].forecast;
      assert.deepStrictEqual(s.next, { ahead: 1, predicted: latest.values[0][0], lower: latest.lower[0][0], upper: latest.upper[0][0] });
    });
  });
});
