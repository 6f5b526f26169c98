/// SNAIL and the Transformer: attention patterns, cached step mode against sequence mode, causality.
module RL2.Tests.AttentionTests

open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open RL2
open RL2.Nn
open RL2.Tests.Helpers

/// Every architecture variant the issue names, as (name, layer builder over context T).
let variants: (string * (int -> Layer)) list =
    [ yield "snail", (fun t -> Snail.layer (gen 1) t 7 8)
      for sparse in [ true; false ] do
          for relative in [ false; true ] do
              for connections in [ Transformer.Dense; Transformer.Residual ] do
                  for ordering in [ Transformer.FunctionThenNorm; Transformer.NormThenFunction ] do
                      let o =
                          { Transformer.reference with
                              Layers = 3
                              Sparse = sparse
                              Relative = relative
                              Connections = connections
                              Ordering = ordering }
                      yield
                          $"transformer sparse={sparse} relative={relative} {connections} {ordering}",
                          (fun t -> Transformer.layer o (gen 1) t 7 8) ]

/// The same inputs run step by step from the initial state, stacked: [B; T; W].
let stepwise (layer: Layer) (x: Tensor) =
    let mutable s = layer.Initial(int x.shape[0])
    let outs =
        [| for i in 0 .. int x.shape[1] - 1 ->
               let y, s' = layer.Step (x.select(1L, int64 i)) s
               s <- s'
               y |]
    torch.stack(outs, 1L)

[<Tests>]
let tests =
    testList "attention" [
        test "row length is the largest divisor of T not above √T" {
            Expect.equal ([ 10; 100; 12; 7; 1; 64 ] |> List.map Attention.rowLength) [ 2; 10; 3; 1; 1; 8 ] "row lengths"
        }

        test "patterns over the grid of T = 6 (rows of 2)" {
            let see p t = [ for s in 0..5 do if Attention.allowed p 2 t s then s ]
            Expect.equal (see Attention.Full 3) [ 0; 1; 2; 3 ] "full: every earlier step"
            Expect.equal (see Attention.Row 3) [ 2; 3 ] "row: causal within row 1"
            Expect.equal (see Attention.Column 5) [ 1; 3; 5 ] "column: causal over column 1"
            Expect.equal (see Attention.PreviousRow 4) [ 2; 3 ] "previous row: all of row 1"
            Expect.equal (see Attention.PreviousRow 1) [] "row 0 has no previous row"
        }

        test "sinusoids: all sines then all cosines, ω_i = 10000^(−2i/F)" {
            use e = Attention.sinusoids [| 0L; 3L |] 4
            // F = 4: ω = [1, 0.01]; position 3 → sin 3, sin 0.03, cos 3, cos 0.03
            let expected = tensorOf [ 2L; 4L ] [ 0.0f; 0.0f; 1.0f; 1.0f; sin 3.0f; sin 0.03f; cos 3.0f; cos 0.03f ]
            expectClose 1e-6f e expected "embeddings"
        }

        test "SNAIL widths: I + 2·ceil(log2 T)·F + F" {
            for t, blocks in [ 10, 4; 100, 7; 8, 3; 9, 4 ] do
                Expect.equal (Snail.blocksFor t) blocks $"blocks for T = {t}"
                Expect.equal (Snail.layer (gen 0) t 7 32).OutputWidth (7 + 2 * blocks * 32 + 32) $"width for T = {t}"
        }

        test "Transformer widths: 20F after 9 dense layers with absolute positions" {
            Expect.equal (Transformer.layer Transformer.reference (gen 0) 10 7 16).OutputWidth (20 * 16) "reference width"
        }

        testList "cached step mode equals one sequence pass within 1e-5" [
            for t in [ 10; 100 ] do
                for name, build in variants do
                    test $"{name}, T = {t}" {
                        use _ = torch.no_grad ()
                        let layer = build t
                        use x = torch.randn([| 3L; int64 t; 7L |], generator = gen 5)
                        expectClose 1e-5f (stepwise layer x) (layer.Sequence x) "features"
                    }
        ]

        testPropertyWithConfig (config 25) "perturbing the input at t changes no output before t"
        <| fun (variant: NonNegativeInt) (tRaw: NonNegativeInt) (seed: int) ->
            use _ = torch.no_grad ()
            let name, build = variants[variant.Get % variants.Length]
            let steps = 10
            let t = tRaw.Get % steps
            let layer = build steps
            use x = torch.randn([| 2L; int64 steps; 7L |], generator = gen seed)
            use bump = torch.zeros_like x
            bump.select(1L, int64 t).fill_(3.0f.ToScalar()) |> ignore
            use y = layer.Sequence x
            use y' = layer.Sequence(x.add bump)
            let before (z: Tensor) = z.narrow(1L, 0L, int64 t)
            let changedAt = maxAbsDiff (y.narrow(1L, int64 t, 1L)) (y'.narrow(1L, int64 t, 1L))
            let unchangedBefore = t = 0 || maxAbsDiff (before y) (before y') = 0.0f
            (unchangedBefore && changedAt > 0.0f)
            |> Prop.label $"{name}, t = {t}"

        test "previous-row attention outputs zeros on row 0" {
            use _ = torch.no_grad ()
            let o: Attention.Options =
                { Heads = 2; HeadWidth = 3; Pattern = Attention.PreviousRow; Positions = Attention.NoPositions; Projection = None; ContextSize = 9 }
            let layer = Attention.layer (gen 2) "attention" o 5
            use x = torch.randn([| 2L; 9L; 5L |], generator = gen 3)
            use y = layer.Sequence x
            Expect.equal (maxAbsDiff (y.narrow(1L, 0L, 3L)) (torch.zeros(2L, 3L, 6L))) 0.0f "row 0 is zero"
            Expect.isGreaterThan (maxAbsDiff (y.narrow(1L, 3L, 3L)) (torch.zeros(2L, 3L, 6L))) 0.0f "row 1 is not"
        }

        test "full single-head attention matches softmax(q·kᵀ/√D + causal mask)·v by hand" {
            use _ = torch.no_grad ()
            let o: Attention.Options =
                { Heads = 1; HeadWidth = 4; Pattern = Attention.Full; Positions = Attention.NoPositions; Projection = None; ContextSize = 5 }
            let layer = Attention.layer (gen 4) "attention" o 3
            let w = layer.Params.named_parameters () |> Seq.find (fun struct (n, _) -> n = "w_qkv") |> fun struct (_, p) -> p
            use x = torch.randn([| 1L; 5L; 3L |], generator = gen 6)
            let qkv = x.matmul w
            let q, k, v = qkv.narrow(-1L, 0L, 4L), qkv.narrow(-1L, 4L, 4L), qkv.narrow(-1L, 8L, 4L)
            let scores = q.matmul(k.transpose(1L, 2L)).div(2.0f.ToScalar())
            let causal = torch.ones(5L, 5L).tril().to_type(ScalarType.Bool)
            let expected = scores.masked_fill(causal.logical_not(), (-1e10).ToScalar()).softmax(-1L).matmul v
            expectClose 1e-6f (layer.Sequence x) expected "attention output"
        }
    ]
