/// Networks (SPEC §3): LN-GRU and LN-LSTM against the equations, step mode = sequence mode,
/// initialisers, parameter registration, checkpoints and composition.
module RL2.Tests.NnTests

open System.IO
open Expecto
open TorchSharp
open RL2
open RL2.Nn
open RL2.Tests.Helpers

let private paramMap (m: torch.nn.Module) =
    m.named_parameters () |> Seq.map (fun struct (n, p) -> n, (p :> Tensor)) |> Map.ofSeq

let private shapes (m: torch.nn.Module) =
    m.named_parameters () |> Seq.map (fun struct (n, p) -> n, List.ofArray p.shape) |> Map.ofSeq

let private randn (g: Generator) (shape: int list) =
    torch.randn(shape |> List.map int64 |> List.toArray, generator = g)

/// The reference layer norm (SPEC §3), written out: mean and *biased* variance over the last
/// axis, eps 1e-8 inside the sqrt, then gain and bias.
let private refLayerNorm (x: Tensor) (gain: Tensor) (bias: Tensor) =
    let mean = x.mean([| -1L |], true)
    let c = x - mean
    let var = (c * c).mean([| -1L |], true)
    c / var.add(1e-8f.ToScalar()).sqrt() * gain + bias

/// Sets every layer-norm gain to U[0.5, 1.5) and bias to N(0, 0.5²) so the reference check
/// also sees where gains and biases go (at init they are 1 and 0).
let private randomiseLayerNorms (g: Generator) (m: torch.nn.Module) =
    use _ = torch.no_grad ()
    for struct (name, p) in m.named_parameters () do
        if name.EndsWith "_gain" then
            p.copy_(torch.rand(p.shape, generator = g).add(0.5f.ToScalar())) |> ignore
        elif name.EndsWith "_bias" then
            p.copy_(torch.randn(p.shape, generator = g).mul(0.5f.ToScalar())) |> ignore

/// Runs a layer in step mode over [B; T; I] from its initial state; returns [B; T; W] and the
/// outputs of each step computed from a *fresh* initial state (to show the state matters).
let private runSteps (layer: Layer) (x: Tensor) =
    let b, steps = int x.shape[0], int x.shape[1]
    let mutable s = layer.Initial b
    let outs =
        [| for t in 0 .. steps - 1 do
               let y, s' = layer.Step (x.select(1L, int64 t)) s
               s <- s'
               y |]
    torch.stack(outs, 1L)

let private stepEqualsSequence (name: string) (layer: Layer) (b: int) (steps: int) =
    testCase name <| fun () ->
        use _ = torch.no_grad ()
        let g = gen 11
        let x = randn g [ b; steps; layer.InputWidth ]
        let seq = layer.Sequence x
        Expect.sequenceEqual seq.shape [| int64 b; int64 steps; int64 layer.OutputWidth |] "sequence output shape"
        let stepped = runSteps layer x
        expectClose 1e-5f stepped seq "step mode vs sequence mode"
        // the carried state matters: step t=2 from a fresh state gives something else
        let fresh, _ = layer.Step (x.select(1L, 2L)) (layer.Initial b)
        Expect.isGreaterThan (maxAbsDiff fresh (seq.select(1L, 2L))) 1e-3f "output depends on the carried state"

let private spec i h t = { InputWidth = i; NumFeatures = h; ContextSize = t }

let stepSequenceTests =
    testList "step = sequence" [
        stepEqualsSequence "GRU core" (Gru.layer (gen 1) 1.0f 5 8) 3 7
        stepEqualsSequence "LSTM core" (Lstm.layer (gen 2) 1.0f 5 8) 3 7
        stepEqualsSequence "GRU policy" (Agent.policy (gen 3) Architecture.gru (spec 6 8 7) 4) 2 7
        stepEqualsSequence "GRU value" (Agent.value (gen 4) Architecture.gru (spec 6 8 7)) 2 7
        stepEqualsSequence "LSTM policy" (Agent.policy (gen 5) Architecture.lstm (spec 6 8 7) 4) 2 7
        stepEqualsSequence "LSTM value" (Agent.value (gen 6) Architecture.lstm (spec 6 8 7)) 2 7
        stepEqualsSequence "GRU --> LSTM --> linear (state split by composition)"
            (Gru.layer (gen 7) 1.0f 5 6 --> Lstm.layer (gen 8) 1.0f 6 4 --> Layer.linear (gen 9) "head" true 4 3) 2 6
    ]

/// One GRU step by SPEC §3 with the layer's own parameters.
let private refGru (p: Map<string, Tensor>) (forgetBias: float32) (h: int) (x: Tensor) (hPrev: Tensor) =
    let zr =
        refLayerNorm (x.matmul p["w_xzr"]) p["ln_xzr_gain"] p["ln_xzr_bias"]
        + refLayerNorm (hPrev.matmul p["w_hzr"]) p["ln_hzr_gain"] p["ln_hzr_bias"]
    let z = torch.sigmoid(zr.narrow(-1L, 0L, int64 h).sub(forgetBias.ToScalar()))
    let r = torch.sigmoid(zr.narrow(-1L, int64 h, int64 h))
    let hCand =
        (refLayerNorm (x.matmul p["w_xh"]) p["ln_xh_gain"] p["ln_xh_bias"]
         + r * refLayerNorm (hPrev.matmul p["w_hh"]) p["ln_hh_gain"] p["ln_hh_bias"])
            .relu()
    (1.0f - z) * hPrev + z * hCand

/// One LSTM step by SPEC §3 with the layer's own parameters: → h', concat(h', c').
let private refLstm (p: Map<string, Tensor>) (forgetBias: float32) (h: int) (x: Tensor) (state: Tensor) =
    let h64 = int64 h
    let hPrev, cPrev = state.narrow(-1L, 0L, h64), state.narrow(-1L, h64, h64)
    let fioj =
        refLayerNorm (x.matmul p["w_x"]) p["ln_x_gain"] p["ln_x_bias"]
        + refLayerNorm (hPrev.matmul p["w_h"]) p["ln_h_gain"] p["ln_h_bias"]
    let part k = fioj.narrow(-1L, int64 k * h64, h64)
    let f = torch.sigmoid(part(0).add(forgetBias.ToScalar()))
    let i = torch.sigmoid(part 1)
    let o = torch.sigmoid(part 2)
    let j = (part 3).relu()
    let c = f * cPrev + i * j
    let hNext = o * c
    hNext, torch.cat([| hNext; c |], -1L)

let equationTests =
    testList "cells match SPEC §3" [
        for forgetBias in [ 1.0f; 0.25f ] do
            testCase $"GRU one step, forget bias {forgetBias}" <| fun () ->
                use _ = torch.no_grad ()
                let g = gen 21
                let i, h, b = 3, 5, 4
                let layer = Gru.layer g forgetBias i h
                randomiseLayerNorms g layer.Params
                let p = paramMap layer.Params
                let x = randn g [ b; i ]
                // from a random state (exercises r ⊙ LN(W_hh h) and (1 - z) ⊙ h) …
                let h0 = randn g [ b; h ]
                let y, s = layer.Step x [ h0 ]
                let expected = refGru p forgetBias h x h0
                expectClose 1e-5f y expected "output"
                Expect.equal s.Length 1 "one state tensor"
                expectClose 1e-5f s.Head expected "state = output"
                // … and from the initial state, which is zeros [B; H]
                let init = layer.Initial b
                expectEqualTensors init.Head (torch.zeros([| int64 b; int64 h |])) "initial state"
                let y0, _ = layer.Step x init
                expectClose 1e-5f y0 (refGru p forgetBias h x (torch.zeros([| int64 b; int64 h |]))) "output from the initial state"

            testCase $"LSTM one step, forget bias {forgetBias}" <| fun () ->
                use _ = torch.no_grad ()
                let g = gen 22
                let i, h, b = 3, 5, 4
                let layer = Lstm.layer g forgetBias i h
                randomiseLayerNorms g layer.Params
                let p = paramMap layer.Params
                let x = randn g [ b; i ]
                let s0 = randn g [ b; 2 * h ]
                let expectedH, expectedS = refLstm p forgetBias h x s0
                let y, s = layer.Step x [ s0.clone () ]
                expectClose 1e-5f y expectedH "output h'"
                Expect.equal s.Length 1 "one state tensor"
                expectClose 1e-5f s.Head expectedS "state concat(h', c')"
                let init = layer.Initial b
                expectEqualTensors init.Head (torch.zeros([| int64 b; 2L * int64 h |])) "initial state [B; 2H] zeros"

        testCase "GRU two steps in sequence mode follow the equations" <| fun () ->
            use _ = torch.no_grad ()
            let g = gen 23
            let i, h, b = 4, 3, 2
            let layer = Gru.layer g 1.0f i h
            randomiseLayerNorms g layer.Params
            let p = paramMap layer.Params
            let x = randn g [ b; 2; i ]
            let h1 = refGru p 1.0f h (x.select(1L, 0L)) (torch.zeros([| int64 b; int64 h |]))
            let h2 = refGru p 1.0f h (x.select(1L, 1L)) h1
            expectClose 1e-5f (layer.Sequence x) (torch.stack([| h1; h2 |], 1L)) "sequence"

        for name, build, reference in
            [ "GRU", (fun g -> Gru.layer g 1.0f 3 4), (fun p x h -> refGru p 1.0f 4 x h)
              "LSTM", (fun g -> Lstm.layer g 1.0f 3 4), (fun p x s -> snd (refLstm p 1.0f 4 x s)) ] do
            testCase $"{name} gradients in sequence mode equal those of the written-out equations" <| fun () ->
                // Backward through T = 3 steps: the library's fused/cached weights must pass
                // gradients to every registered parameter exactly as the plain equations do.
                let g = gen 25
                let layer: Layer = build g
                randomiseLayerNorms g layer.Params
                let p = paramMap layer.Params
                let x = randn g [ 2; 3; 3 ]
                let w = randn g [ 2; 3; 4 ]
                let grads () =
                    layer.Params.named_parameters ()
                    |> Seq.map (fun struct (n, q) -> n, q.grad.clone ())
                    |> Map.ofSeq
                layer.Params.zero_grad ()
                (layer.Sequence x * w).sum().backward ()
                let actual = grads ()
                layer.Params.zero_grad ()
                let width = int (layer.Initial 1).Head.shape[1]
                let mutable s = torch.zeros([| 2L; int64 width |])
                let outs =
                    [| for t in 0L .. 2L do
                           s <- reference p (x.select(1L, t)) s
                           s.narrow(-1L, 0L, 4L) |]
                (torch.stack(outs, 1L) * w).sum().backward ()
                let expected = grads ()
                for KeyValue(n, e) in expected do
                    Expect.isGreaterThan (scalar (e.abs().sum())) 0.0f $"{n}: reference gradient non-zero"
                    expectClose 1e-5f actual[n] e $"{n} gradient"

        for name, build in [ "GRU", (fun g -> Gru.layer g 1.0f 5 21); "LSTM", (fun g -> Lstm.layer g 1.0f 5 21) ] do
            testCase $"{name}'s fused sequence mode and its hand-derived backward equal autograd through step mode" <| fun () ->
                // Widths where the vectorised passes have full vectors and a scalar tail (B·h = 3·21),
                // T = 20 steps of backpropagation through time, gains and biases away from 1 and 0; the
                // layer-normalised candidate is negative about half the time, so relu's zero branch is taken.
                let g = gen 26
                let b, steps = 3, 20
                let layer: Layer = build g
                randomiseLayerNorms g layer.Params
                let w = randn g [ b; steps; layer.OutputWidth ]
                let run (forward: Tensor -> Tensor) =
                    let x = (randn (gen 27) [ b; steps; layer.InputWidth ]).requires_grad_ true
                    layer.Params.zero_grad ()
                    let y = forward x
                    (y * w).sum().backward ()
                    let grads =
                        layer.Params.named_parameters ()
                        |> Seq.map (fun struct (n, q) -> n, q.grad.clone ())
                        |> Map.ofSeq
                    y.detach (), x.grad.clone (), grads
                let y, dx, grads = run layer.Sequence
                let yRef, dxRef, gradsRef = run (runSteps layer)
                expectClose 1e-5f y yRef "outputs"
                expectClose 1e-5f dx dxRef "input gradient"
                for KeyValue(n, e) in gradsRef do
                    Expect.isGreaterThan (scalar (e.abs().sum())) 0.0f $"{n}: reference gradient non-zero"
                    expectClose (1e-5f * max 1.0f (scalar (e.abs().max()))) grads[n] e $"{n} gradient"

        testCase "reference layer norm is what Layer.layerNormOp computes" <| fun () ->
            use _ = torch.no_grad ()
            let g = gen 24
            let x = randn g [ 3; 6 ]
            let gain, bias = randn g [ 6 ], randn g [ 6 ]
            expectClose 1e-5f (Layer.layerNormOp 6 gain bias x) (refLayerNorm x gain bias) "layer norm"
            // small-variance rows (var ≈ 1e-6) tell eps 1e-8 from PyTorch's default 1e-5
            let small = x.mul(1e-3f.ToScalar())
            expectClose 1e-4f (Layer.layerNormOp 6 gain bias small) (refLayerNorm small gain bias) "small variance"
            // constant rows: variance 0, eps 1e-8 keeps it finite and the output is the bias
            let flat = torch.full([| 2L; 6L |], 3.0f.ToScalar())
            expectClose 1e-5f (Layer.layerNormOp 6 gain bias flat) (bias.expand(2L, 6L)) "constant input"
    ]

let initTests =
    testList "init" [
        for rows, cols in [ 16, 16; 20, 8; 8, 20 ] do
            testCase $"orthogonal {rows}x{cols}" <| fun () ->
                let q = Init.orthogonal (gen 31) rows cols
                Expect.sequenceEqual q.shape [| int64 rows; int64 cols |] "shape"
                Expect.isTrue (q.is_contiguous ()) "contiguous (saveable)"
                // orthonormal columns when tall or square, orthonormal rows when wide
                let gram = if rows >= cols then q.t().matmul q else q.matmul(q.t())
                expectClose 1e-5f gram (torch.eye(int64 (min rows cols))) "QᵀQ = I"

        testCase "Xavier-normal std ≈ sqrt(2/(fan_in + fan_out)), mean ≈ 0" <| fun () ->
            let fanIn, fanOut = 300, 500
            let w = Init.xavierNormal (gen 32) fanIn fanOut
            Expect.sequenceEqual w.shape [| int64 fanIn; int64 fanOut |] "input-major shape"
            let v = floats w
            let n = float32 v.Length
            let expected = sqrt (2.0f / float32 (fanIn + fanOut)) // 0.05
            let mean = Array.average v
            let std = sqrt (v |> Array.averageBy (fun x -> (x - mean) * (x - mean)))
            expectFloat (5.0f * expected / sqrt n) mean 0.0f "mean"
            // the standard error of the std is std/√(2n) ≈ 0.2 %; allow 2 %
            expectFloat (0.02f * expected) std expected "std"

        testCase "Kaiming-uniform bounds ±1/√fan_in" <| fun () ->
            let w = Init.kaimingUniform (gen 33) 16 [| 64L; 64L |]
            let v = floats w
            Expect.all v (fun x -> abs x <= 0.25f) "within bound"
            Expect.isGreaterThan (Array.max v) 0.24f "reaches the upper bound"
            Expect.isLessThan (Array.min v) -0.24f "reaches the lower bound"

        testCase "same generator seed, same weights; different seed, different weights" <| fun () ->
            expectEqualTensors (Init.xavierNormal (gen 5) 4 6) (Init.xavierNormal (gen 5) 4 6) "xavier"
            expectEqualTensors (Init.orthogonal (gen 5) 6 6) (Init.orthogonal (gen 5) 6 6) "orthogonal"
            let build seed = Agent.policy (gen seed) Architecture.gru (spec 5 6 4) 3
            let a, b, c = paramMap (build 7).Params, paramMap (build 7).Params, paramMap (build 8).Params
            Expect.sequenceEqual (Map.keys a) (Map.keys b) "names"
            for KeyValue(name, t) in a do
                expectEqualTensors t b[name] $"same seed: {name}"
            for name in [ "gru.w_xzr"; "gru.w_hh"; "policy_head.weight" ] do
                Expect.isFalse (same a[name] c[name]) $"different seed: {name}"
    ]

let paramTests =
    testList "parameters" [
        testCase "GRU registers its 4 weights and 4 layer norms" <| fun () ->
            let i, h = 3, 4
            let layer = Gru.layer (gen 41) 1.0f i h
            Expect.equal
                (shapes layer.Params)
                (Map.ofList
                    [ "w_xzr", [ 3L; 8L ]; "w_xh", [ 3L; 4L ]; "w_hzr", [ 4L; 8L ]; "w_hh", [ 4L; 4L ]
                      "ln_xzr_gain", [ 8L ]; "ln_xzr_bias", [ 8L ]; "ln_hzr_gain", [ 8L ]; "ln_hzr_bias", [ 8L ]
                      "ln_xh_gain", [ 4L ]; "ln_xh_bias", [ 4L ]; "ln_hh_gain", [ 4L ]; "ln_hh_bias", [ 4L ] ])
                "names and shapes"
            Expect.equal (Seq.length (layer.Params.parameters ())) 12 "parameters() count"
            let p = paramMap layer.Params
            for KeyValue(name, t) in p do
                if name.EndsWith "_gain" then expectEqualTensors t (torch.ones t.shape) $"{name} init 1"
                if name.EndsWith "_bias" then expectEqualTensors t (torch.zeros t.shape) $"{name} init 0"
            let whh = p["w_hh"]
            expectClose 1e-5f (whh.t().matmul whh) (torch.eye 4L) "W_hh orthogonal"
            Expect.equal layer.StateSize 1 "one state tensor"
            Expect.equal (layer.InputWidth, layer.OutputWidth) (i, h) "widths"

        testCase "LSTM registers its 2 weights and 2 layer norms" <| fun () ->
            let layer = Lstm.layer (gen 42) 1.0f 3 4
            Expect.equal
                (shapes layer.Params)
                (Map.ofList
                    [ "w_x", [ 3L; 16L ]; "w_h", [ 4L; 16L ]
                      "ln_x_gain", [ 16L ]; "ln_x_bias", [ 16L ]; "ln_h_gain", [ 16L ]; "ln_h_bias", [ 16L ] ])
                "names and shapes"
            Expect.equal (Seq.length (layer.Params.parameters ())) 6 "parameters() count"
            Expect.equal (layer.InputWidth, layer.OutputWidth) (3, 4) "widths"

        testCase "policy and value nets: core + head, separate parameters, all receive gradients" <| fun () ->
            let g = gen 43
            let policy = Agent.policy g Architecture.gru (spec 5 6 4) 3
            let value = Agent.value g Architecture.gru (spec 5 6 4)
            let ps, vs = shapes policy.Params, shapes value.Params
            Expect.equal ps.Count 14 "policy: 12 GRU + weight + bias"
            Expect.equal vs.Count 14 "value: 12 GRU + weight + bias"
            Expect.equal ps["policy_head.weight"] [ 6L; 3L ] "policy head W → A"
            Expect.equal ps["policy_head.bias"] [ 3L ] "policy head bias"
            Expect.equal vs["value_head.weight"] [ 6L; 1L ] "value head W → 1"
            Expect.equal ps["gru.w_xzr"] [ 5L; 12L ] "GRU inside the policy net"
            let pp, vp = paramMap policy.Params, paramMap value.Params
            expectEqualTensors pp["policy_head.bias"] (torch.zeros [| 3L |]) "head bias zero"
            Expect.isFalse (same pp["gru.w_xzr"] vp["gru.w_xzr"]) "no shared weights"
            Expect.equal (Seq.length (policy.Params.parameters ())) 14 "parameters() sees the nested layers"
            // every registered parameter takes part in the forward pass
            let x = randn g [ 2; 4; 5 ]
            let logits = policy.Sequence x
            Expect.sequenceEqual logits.shape [| 2L; 4L; 3L |] "logits [B; T; A]"
            use w = randn g [ 2; 4; 3 ]
            (logits * w).sum().backward ()
            for struct (name, p) in policy.Params.named_parameters () do
                Expect.isTrue p.requires_grad $"{name} requires grad"
                Expect.isNotNull p.grad $"{name} has a gradient"
                Expect.isGreaterThan (scalar (p.grad.abs().sum())) 0.0f $"{name} gradient non-zero"
            for struct (name, p) in value.Params.named_parameters () do
                Expect.isNull p.grad $"value {name} untouched by the policy loss"

        for arch in [ Architecture.gru; Architecture.lstm ] do
            testCase $"{arch.Name}: state_dict round-trip through save/load reproduces outputs" <| fun () ->
                use _ = torch.no_grad ()
                let net1 = Agent.policy (gen 51) arch (spec 5 6 4) 3
                let net2 = Agent.policy (gen 52) arch (spec 5 6 4) 3
                let x = randn (gen 53) [ 2; 4; 5 ]
                let y1 = net1.Sequence x
                Expect.isGreaterThan (maxAbsDiff (net2.Sequence x) y1) 1e-3f "different nets before loading"
                let path = Path.GetTempFileName()
                try
                    net1.Params.save path |> ignore
                    net2.Params.load path |> ignore
                finally
                    File.Delete path
                expectEqualTensors (net2.Sequence x) y1 "outputs after loading"
                let sd1, sd2 = net1.Params.state_dict (), net2.Params.state_dict ()
                Expect.sequenceEqual (Seq.sort sd2.Keys) (Seq.sort sd1.Keys) "state_dict keys"
                for k in sd1.Keys do
                    expectEqualTensors sd2[k] sd1[k] $"state_dict {k}"
    ]

let compositionTests =
    testList "composition" [
        testCase "--> rejects mismatched widths" <| fun () ->
            let g = gen 61
            Expect.throwsT<System.ArgumentException>
                (fun () -> Layer.linear g "a" true 3 4 --> Layer.linear g "b" true 5 2 |> ignore)
                "4 → 5"
            Expect.throwsT<System.ArgumentException>
                (fun () -> Gru.layer g 1.0f 3 8 --> Layer.linear g "head" true 6 2 |> ignore)
                "GRU 8 → head 6"

        testCase "concat rejects mismatched input widths" <| fun () ->
            let g = gen 62
            Expect.throwsT<System.ArgumentException>
                (fun () -> Layer.concat "c" [ Layer.identity 3; Layer.linear g "a" true 4 2 ] |> ignore)
                "3 vs 4"

        testCase "--> of matching layers: widths, state size, parameters, values" <| fun () ->
            use _ = torch.no_grad ()
            let g = gen 63
            let a = Layer.linear g "a" true 3 4
            let b = Layer.linear g "b" false 4 2
            let c = a --> b
            Expect.equal (c.InputWidth, c.OutputWidth, c.StateSize) (3, 2, 0) "widths and state"
            Expect.equal (Seq.length (c.Params.parameters ())) 3 "weight, bias, weight"
            let x = randn g [ 2; 5; 3 ]
            let pa, pb = paramMap a.Params, paramMap b.Params
            expectClose 1e-5f (c.Sequence x) ((x.matmul pa["weight"] + pa["bias"]).matmul pb["weight"]) "x W_a + b_a then W_b"
            let rnn = Gru.layer g 1.0f 3 4 --> Lstm.layer g 1.0f 4 5
            Expect.equal rnn.StateSize 2 "GRU state then LSTM state"
            Expect.sequenceEqual (rnn.Initial 2 |> List.map (fun t -> List.ofArray t.shape)) [ [ 2L; 4L ]; [ 2L; 10L ] ] "initial states"
            let cat = Layer.concat "cat" [ Layer.identity 3; a ]
            Expect.equal cat.OutputWidth 7 "concat width"
            expectClose 0.0f (cat.Sequence x) (torch.cat([| x; a.Sequence x |], -1L)) "concat output"
    ]

[<Tests>]
let tests = testList "nn" [ stepSequenceTests; equationTests; initTests; paramTests; compositionTests ]
