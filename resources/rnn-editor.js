// Editor-side helpers shared by the five rnn-* nodes: value checks, validators and dialog wiring.
// Each node's HTML loads this file (Node-RED serves a module's resources/ folder), and the editor
// runs it once per node file that asks for it, so the first definition is the one kept.
(function () {
    "use strict";
    if (window.RnnEditor) {
        return;
    }

    // The editor stores what it reads from an <input> as a string, while defaults and imported
    // flows hold numbers: every check accepts both.
    function isBlank(v) {
        return v === undefined || v === null || String(v).trim() === "";
    }
    function isIntIn(v, min, max) {
        var n = Number(v);
        return !isBlank(v) && Number.isInteger(n) && n >= min && n <= max;
    }
    function isNumberIn(v, min, max, exclusiveMin) {
        var n = Number(v);
        return !isBlank(v) && isFinite(n) && (exclusiveMin ? n > min : n >= min) && n <= max;
    }

    // A two-argument validator may return its reason (Node-RED 3+); without opt the caller only
    // wants true or false.
    function say(node, opt, key, args) {
        if (opt && node && typeof node._ === "function") {
            return node._(key, args);
        }
        return false;
    }

    // Validators are called with the node as `this`. They declare both parameters because the
    // editor only shows a returned reason when the validator's length is 2.
    function intIn(min, max, key) {
        return function (v, opt) {
            return isIntIn(v, min, max) ? true : say(this, opt, key, { min: min, max: max });
        };
    }
    function numberIn(min, max, key) {
        return function (v, opt) {
            return isNumberIn(v, min, max, false) ? true : say(this, opt, key, { min: min, max: max });
        };
    }
    function numberAbove(min, max, key) {
        return function (v, opt) {
            return isNumberIn(v, min, max, true) ? true : say(this, opt, key, { min: min, max: max });
        };
    }
    // The runtime keeps the seed in a signed 32-bit integer.
    function seed(key) {
        return intIn(-2147483648, 2147483647, key);
    }
    function oneOf(values) {
        return function (v) {
            return values.indexOf(v) !== -1;
        };
    }

    // A setting added after flows were saved without it: those flows lack the property, and the
    // runtime reads it as the default, so the editor must not mark them as invalid.
    function oneOfOrUnset(values) {
        return function (v) {
            return v === undefined || v === "" || values.indexOf(v) !== -1;
        };
    }

    // While the edit dialog is open the form holds the value being edited; otherwise (deploy,
    // import) only the saved property exists. A checkbox gives whether it is ticked.
    function current(node, field) {
        var input = $("#node-input-" + field);
        if (input.length) {
            return input.is(":checkbox") ? input.prop("checked") : input.val();
        }
        return node ? node[field] : undefined;
    }
    // Whether the field currently holds value; a saved flag counts by its truthiness.
    function holds(node, field, value) {
        var now = current(node, field);
        return typeof value === "boolean" ? !!now === value : now === value;
    }
    // A field that only matters for one choice of another is not checked otherwise.
    function onlyWhen(field, value, validate) {
        return function (v, opt) {
            return holds(this, field, value) ? validate.call(this, v, opt) : true;
        };
    }
    // For oneditsave: a hidden, unused field must not make the saved node invalid, so a value of
    // it that does not pass falls back to the default.
    function resetUnused(field, value, target, validate, fallback) {
        var input = $("#node-input-" + target);
        if (!holds(null, field, value) && validate.call(null, input.val()) !== true) {
            input.val(fallback);
        }
    }

    // Path segments with "." and ".." worked out; a Windows drive letter in lower case.
    function segments(p) {
        var out = [];
        p.split(/[\/\\]+/).forEach(function (part, i) {
            if (part === "..") {
                out.pop();
            } else if (part !== "." && (part !== "" || i === 0)) {
                out.push(/^[A-Za-z]:$/.test(part) ? part.toLowerCase() : part);
            }
        });
        return out;
    }

    // The runtime refuses a model path that leaves the user directory, which the runtime tells
    // the editor (RED.settings.rnnTrainerUserDir): an absolute path is judged against it here too,
    // so the dialog refuses what a deploy would. Returns the name of the problem, or null.
    function modelPathProblem(v) {
        var p = String(v).trim();
        if (/[\/\\]$/.test(p)) {
            return "modelPath";
        }
        if (/^([\/\\]|[A-Za-z]:)/.test(p)) {
            var root = RED.settings.rnnTrainerUserDir;
            if (typeof root !== "string" || root === "") {
                return null; // an older runtime that does not say: it judges the path at deploy
            }
            var dir = segments(root);
            var file = segments(p);
            var inside = file.length > dir.length && dir.every(function (part, i) { return file[i] === part; });
            return inside ? null : file.length === dir.length && dir.every(function (part, i) { return file[i] === part; }) ? "modelPath" : "modelPathOutside";
        }
        var depth = 0;
        var parts = p.split(/[\/\\]+/);
        for (var i = 0; i < parts.length; i++) {
            if (parts[i] === "..") {
                depth--;
            } else if (parts[i] !== "." && parts[i] !== "") {
                depth++;
            }
            if (depth < 0) {
                return "modelPathOutside";
            }
        }
        return depth === 0 ? "modelPath" : null;
    }

    // Turns the named inputs into spinners ({ field: spinner options }).
    function spinners(options) {
        Object.keys(options).forEach(function (field) {
            var input = $("#node-input-" + field).spinner(options[field]);
            // Spinner arrows change the value without a change event, which the editor needs
            // to re-run validation.
            input.siblings(".ui-spinner-button").on("click", function () {
                input.trigger("change");
            });
        });
    }
    // Calls show(value) whenever the field changes and once now, then re-validates the fields
    // whose validity depends on it.
    function follow(field, show, dependents) {
        $("#node-input-" + field).on("change", function () {
            if (show) {
                show(current(null, field));
            }
            (dependents || []).forEach(function (name) {
                $("#node-input-" + name).trigger("change");
            });
        }).trigger("change");
    }

    // The palette label from the node's catalogue, and an italic label once the node is named.
    function paletteLabel(type) {
        return function () {
            return this._(type + ".paletteLabel");
        };
    }

    function labelStyle() {
        return this.name ? "node_label_italic" : "";
    }

    window.RnnEditor = Object.freeze({
        isBlank: isBlank,
        isIntIn: isIntIn,
        isNumberIn: isNumberIn,
        say: say,
        intIn: intIn,
        numberIn: numberIn,
        numberAbove: numberAbove,
        seed: seed,
        oneOf: oneOf,
        oneOfOrUnset: oneOfOrUnset,
        current: current,
        holds: holds,
        onlyWhen: onlyWhen,
        resetUnused: resetUnused,
        modelPathProblem: modelPathProblem,
        spinners: spinners,
        follow: follow,
        paletteLabel: paletteLabel,
        labelStyle: labelStyle
    });
})();
