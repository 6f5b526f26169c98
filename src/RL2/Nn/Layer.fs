/// Functional layers over TorchSharp: a layer is its parameters plus the functions that use them.
/// Recurrent and feed-forward layers share one shape, `input → state → output * state`, so
/// `-->` composes any of them; feed-forward layers simply carry no state.
namespace RL2.Nn

open System.Collections.Generic
open TorchSharp
open RL2

/// Holds a layer's parameters and sub-layers so state_dict, save/load and optimisers see them.
type ParamStore(name: string) =
    inherit torch.nn.Module(name)
    let taken = HashSet<string>()

    member this.Parameter(pname: string, value: Tensor) =
        let p = new Modules.Parameter(value, true)
        this.register_parameter(pname, p)
        p

    /// Registers a sub-layer under its own name, suffixed where a sibling already took it.
    member this.Child(m: torch.nn.Module) =
        let baseName = m.GetName()
        let unique =
            Seq.initInfinite (fun i -> if i = 0 then baseName else $"{baseName}_{i}")
            |> Seq.find taken.Add
        this.register_module(unique, m)

/// Per-layer recurrent state: hidden vectors or caches, empty for feed-forward layers.
type State = Tensor list

type Layer =
    { Params: torch.nn.Module
      InputWidth: int
      OutputWidth: int
      /// How many tensors of the state belong to this layer.
      StateSize: int
      /// Initial state for a batch of B.
      Initial: int -> State
      /// Step mode, prepared once for many steps (e.g. fused recurrent weights): the returned
      /// function maps one timestep [B; I] with carried state → [B; W] and the next state, and is
      /// valid while the parameters do not change. The next state is made of fresh tensors, so the
      /// caller may dispose the previous one.
      Stepper: unit -> (Tensor -> State -> Tensor * State)
      /// Sequence mode: a whole sequence [B; T; I] from the initial state → [B; T; W].
      Sequence: Tensor -> Tensor }

    /// One timestep in step mode, preparing afresh; loops over many steps use `Stepper` once.
    member l.Step (x: Tensor) (s: State) = l.Stepper () x s

module Layer =
    let private store name (children: Layer list) =
        let s = new ParamStore(name)
        for c in children do s.Child c.Params
        s :> torch.nn.Module

    /// A stateless layer from a function over the last axis (any leading dims).
    let feedForward (ps: torch.nn.Module) inWidth outWidth (f: Tensor -> Tensor) =
        { Params = ps
          InputWidth = inWidth
          OutputWidth = outWidth
          StateSize = 0
          Initial = fun _ -> []
          Stepper = fun () x s -> f x, s
          Sequence = f }

    /// A parameter-free function as a layer (activations, reshapes).
    let fn name inWidth outWidth f = feedForward (new ParamStore(name)) inWidth outWidth f

    /// y = x W + b, W Xavier-normal, b zero (SPEC's heads).
    let linear (gen: Generator) name (useBias: bool) inWidth outWidth =
        let ps = new ParamStore(name)
        let w = ps.Parameter("weight", Init.xavierNormal gen inWidth outWidth)
        if useBias then
            let b = ps.Parameter("bias", Init.zeros outWidth)
            feedForward ps inWidth outWidth (fun x ->
                use xw = x.matmul w
                xw.add b)
        else
            feedForward ps inWidth outWidth (fun x -> x.matmul w)

    /// The reference's layer norm: biased variance over the last axis, eps 1e-8 inside the sqrt.
    let layerNormOp (width: int) (gain: Tensor) (bias: Tensor) (x: Tensor) =
        torch.nn.functional.layer_norm(x, [| int64 width |], gain, bias, 1e-8)

    /// Registers a layer norm's gain (init 1) and bias (init 0) in `ps`.
    let layerNormParams (ps: ParamStore) (prefix: string) (width: int) =
        ps.Parameter(prefix + "_gain", Init.ones width), ps.Parameter(prefix + "_bias", Init.zeros width)

    /// Registers a layer norm's gain and bias in `ps` and returns the op.
    let layerNormIn (ps: ParamStore) (prefix: string) (width: int) =
        let g, b = layerNormParams ps prefix width
        layerNormOp width g b

    let layerNorm name width =
        let ps = new ParamStore(name)
        feedForward ps width width (layerNormIn ps "ln" width)

    /// Sequential composition: b reads a's output; the state is a's followed by b's.
    let compose (a: Layer) (b: Layer) =
        if a.OutputWidth <> b.InputWidth then
            invalidArg "b" $"layer widths do not match: {a.Params.GetName()} gives {a.OutputWidth}, {b.Params.GetName()} takes {b.InputWidth}"
        { Params = store "seq" [ a; b ]
          InputWidth = a.InputWidth
          OutputWidth = b.OutputWidth
          StateSize = a.StateSize + b.StateSize
          Initial = fun n -> a.Initial n @ b.Initial n
          Stepper =
            fun () ->
                let stepA, stepB = a.Stepper (), b.Stepper ()
                fun x s ->
                    let sa, sb = List.splitAt a.StateSize s
                    let y, sa' = stepA x sa
                    let z, sb' = stepB y sb
                    z, sa' @ sb'
          Sequence = a.Sequence >> b.Sequence }

    /// Layers applied one after another, registered under one name.
    let sequence name (layers: Layer list) =
        { List.reduce compose layers with Params = store name layers }

    /// Layers reading the same input side by side; outputs concatenated on the last axis.
    let concat name (layers: Layer list) =
        let width = layers.Head.InputWidth
        if layers |> List.exists (fun l -> l.InputWidth <> width) then
            invalidArg "layers" "concat needs layers of one input width"
        let cat (ys: Tensor list) = torch.cat(List.toArray ys, -1L)
        { Params = store name layers
          InputWidth = width
          OutputWidth = layers |> List.sumBy _.OutputWidth
          StateSize = layers |> List.sumBy _.StateSize
          Initial = fun n -> layers |> List.collect (fun l -> l.Initial n)
          Stepper =
            fun () ->
                let steps = layers |> List.map (fun l -> l, l.Stepper ())
                fun x s ->
                    let outs, _, states =
                        steps
                        |> List.fold
                            (fun (ys, rest, acc) (l, step) ->
                                let mine, rest' = List.splitAt l.StateSize rest
                                let y, s' = step x mine
                                y :: ys, rest', acc @ s')
                            ([], s, [])
                    cat (List.rev outs), states
          Sequence = fun x -> layers |> List.map (fun l -> l.Sequence x) |> cat }

    /// The identity as a layer (for concat with the input: dense connections).
    let identity width = fn "identity" width width id

    /// A layer with its own step and sequence functions (caches, convolutions, attention).
    let stateful (ps: torch.nn.Module) inWidth outWidth stateSize (initial: int -> State) step sequence =
        { Params = ps
          InputWidth = inWidth
          OutputWidth = outWidth
          StateSize = stateSize
          Initial = initial
          Stepper = fun () -> step
          Sequence = sequence }

    /// `f` side by side with the identity: [x, f x] (dense connections of SNAIL and the Transformer).
    let dense name (f: Layer) = concat name [ identity f.InputWidth; f ]

    /// x + f x (residual connections).
    let residual name (f: Layer) =
        if f.InputWidth <> f.OutputWidth then
            invalidArg "f" $"a residual connection needs equal widths, got {f.InputWidth} → {f.OutputWidth}"
        { f with
            Params = store name [ f ]
            Stepper =
                fun () ->
                    let step = f.Stepper ()
                    fun x s ->
                        let y, s' = step x s
                        x.add y, s'
            Sequence = fun x -> x.add (f.Sequence x) }

    /// Lifts a recurrent cell to a layer. `project` runs once over the whole input (e.g. the input
    /// projections of all T steps in one matmul); `prepare` runs once per call and returns the cell,
    /// `projected x_t → state → output * state` (e.g. after fusing recurrent weights).
    let recurrent
        (ps: torch.nn.Module)
        inWidth
        outWidth
        (initial: int -> State)
        (project: Tensor -> Tensor)
        (prepare: unit -> (Tensor -> State -> Tensor * State))
        =
        let stateSize =
            let probe = initial 1
            for t in probe do t.Dispose()
            probe.Length
        { Params = ps
          InputWidth = inWidth
          OutputWidth = outWidth
          StateSize = stateSize
          Initial = initial
          Stepper =
            fun () ->
                let cell = prepare ()
                fun x s -> cell (project x) s
          Sequence =
            fun x ->
                // x: [B; T; I]
                let xp = project x
                let cell = prepare ()
                // unbind, not select per step: select's backward would scatter into a full-size zero
                // gradient at every step.
                let xs = xp.unbind 1L
                let steps = xs.Length
                let outs = Array.zeroCreate steps
                let mutable s = initial (int x.shape[0])
                for t in 0 .. steps - 1 do
                    let y, s' = cell xs[t] s
                    outs[t] <- y
                    s <- s'
                torch.stack(outs, 1L) }

[<AutoOpen>]
module LayerOperators =
    /// Compose layers left to right, as DiffSharp's `-->`.
    let (-->) a b = Layer.compose a b
