/// The reference's Transformer (SPEC §3): input projection, sinusoidal positions, then layers of
/// attention and feed-forward sublayers, each written with the layer combinators.
module RL2.Nn.Transformer

open TorchSharp
open RL2

type Connections =
    /// Each sublayer's output is concatenated to its input (the stream widens by F per sublayer).
    | Dense
    /// Each sublayer's output is added to its input (the stream stays F wide).
    | Residual

type Ordering =
    /// "f then n": layer norm over the sublayer's output.
    | FunctionThenNorm
    /// "n then f": layer norm over the sublayer's input (pre-norm).
    | NormThenFunction

type Options =
    { Layers: int
      Heads: int
      /// Cycle row, column and previous-row patterns per layer; full causal attention otherwise.
      Sparse: bool
      Connections: Connections
      Ordering: Ordering
      /// Absolute sinusoidal positions on the input, or Transformer-XL relative positions in attention.
      Relative: bool }

/// The reference defaults: 9 layers, 2 heads, sparse, dense, "f then n", absolute positions.
let reference =
    { Layers = 9
      Heads = 2
      Sparse = true
      Connections = Dense
      Ordering = FunctionThenNorm
      Relative = false }

/// Attention pattern of layer l.
let pattern (o: Options) (l: int) =
    if o.Sparse then [| Attention.Row; Attention.Column; Attention.PreviousRow |][l % 3] else Attention.Full

/// Sinusoidal positions of width f, concatenated to (dense) or added to (residual) the input.
/// Step mode keeps the step count in the shape of an empty tensor, [p; 0], so reading it needs no copy.
let positions (connections: Connections) (contextSize: int) (f: int) (inWidth: int) : Layer =
    let table = Attention.sinusoids [| 0L .. int64 contextSize - 1L |] f // [T; F]
    let combine (x: Tensor) (emb: Tensor) =
        match connections with
        | Dense -> torch.cat([| x; emb.expand_as(x.narrow(-1L, 0L, int64 f)) |], -1L)
        | Residual -> x.add emb
    let step (x: Tensor) (state: State) =
        let p = state.Head.shape[0]
        if p >= int64 contextSize then invalidArg "x" $"the Transformer's context is {contextSize} steps"
        combine x (table.narrow(0L, p, 1L)), [ torch.empty([| p + 1L; 0L |]) ]
    let sequence (x: Tensor) = combine x (table.narrow(0L, 0L, x.shape[1]).unsqueeze 0L)
    let outWidth = if connections = Dense then inWidth + f else inWidth
    Layer.stateful (new ParamStore("positions")) inWidth outWidth 1 (fun _ -> [ torch.empty([| 0L; 0L |]) ]) step sequence

/// One sublayer with its connection and layer norm: [..; W] → [..; W + F] (dense) or [..; W] (residual).
let private sublayer (o: Options) (name: string) (width: int) (f: int) (body: Layer) =
    let inner =
        match o.Ordering with
        | FunctionThenNorm -> Layer.sequence name [ body; Layer.layerNorm "ln" f ]
        | NormThenFunction -> Layer.sequence name [ Layer.layerNorm "ln" width; body ]
    match o.Connections, o.Ordering with
    | Dense, _ -> Layer.dense name inner
    | Residual, NormThenFunction -> Layer.residual name inner
    | Residual, FunctionThenNorm ->
        // Post-norm: the norm follows the residual sum.
        Layer.sequence name [ Layer.residual "sum" body; Layer.layerNorm "ln" f ]

/// Transformer core for inputs of width I and feature width F: [..; I] → [..; output width].
let layer (o: Options) (gen: Generator) (contextSize: int) (inWidth: int) (f: int) : Layer =
    if f % o.Heads <> 0 || f % 2 <> 0 then
        invalidArg "f" $"the Transformer needs num_features divisible by 2 and by its {o.Heads} heads, got {f}"
    let input =
        let ps = new ParamStore("input")
        let w = ps.Parameter("weight", Init.xavierNormal gen inWidth f)
        // PyTorch's default Linear bias init.
        let b = ps.Parameter("bias", Init.kaimingUniform gen inWidth [| int64 f |])
        Layer.feedForward ps inWidth f (fun x -> x.matmul(w).add b)
    let stem =
        if o.Relative then input
        else Layer.sequence "stem" [ input; positions o.Connections contextSize f f ]
    let layers, _ =
        List.mapFold
            (fun width l ->
                let attention =
                    Attention.layer
                        gen
                        "attention"
                        { Heads = o.Heads
                          HeadWidth = f / o.Heads
                          Pattern = pattern o l
                          Positions = if o.Relative then Attention.Relative else Attention.NoPositions
                          Projection = Some f
                          ContextSize = contextSize }
                        width
                let a = sublayer o "attention_block" width f attention
                let ff =
                    Layer.sequence
                        "mlp"
                        [ Layer.linear gen "fc1" true a.OutputWidth f
                          Layer.fn "relu" f f (fun x -> x.relu ())
                          Layer.linear gen "fc2" true f f ]
                let m = sublayer o "mlp_block" a.OutputWidth f ff
                Layer.sequence $"layer_{l}" [ a; m ], m.OutputWidth)
            stem.OutputWidth
            [ 0 .. o.Layers - 1 ]
    Layer.sequence "transformer" (stem :: layers)
