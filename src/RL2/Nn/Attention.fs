/// Causal multi-head self-attention with key/value caches for step mode (SPEC §3), shared by SNAIL
/// and the Transformer. Attention patterns are masks over the T×T grid of positions, so step mode
/// and sequence mode run the same arithmetic.
module RL2.Nn.Attention

open TorchSharp
open RL2

/// Which earlier positions a query may attend to.
type Pattern =
    | Full
    /// Causal within the query's row of the √T grid.
    | Row
    /// Causal over the query's column of the grid.
    | Column
    /// Every position of the previous row; row 0 attends to nothing and outputs 0.
    | PreviousRow

type Positions =
    /// No position information inside attention (positions, if any, come with the input).
    | NoPositions
    /// Transformer-XL: learned biases u, v and sinusoidal embeddings of the distance t − s.
    | Relative

type Options =
    { Heads: int
      HeadWidth: int
      Pattern: Pattern
      Positions: Positions
      /// Width of the bias-free output projection, if any.
      Projection: int option
      /// Timesteps per meta-episode: the grid of the sparse patterns.
      ContextSize: int }

/// Row length of the grid: the largest divisor of T not above √T.
let rowLength (contextSize: int) =
    let mutable r = int (sqrt (float contextSize))
    while r > 1 && contextSize % r <> 0 do
        r <- r - 1
    max 1 r

/// Whether query position t may attend to key position s.
let allowed (pattern: Pattern) (rowLen: int) (t: int) (s: int) =
    match pattern with
    | Full -> s <= t
    | Row -> s <= t && s / rowLen = t / rowLen
    | Column -> s <= t && s % rowLen = t % rowLen
    | PreviousRow -> s / rowLen = t / rowLen - 1

/// Sinusoidal embeddings [positions; width]: all sines then all cosines, ω_i = 10000^(−2i/width).
let sinusoids (positions: int64[]) (width: int) =
    use p = torch.tensor(positions |> Array.map float32).unsqueeze 1L
    use i = torch.arange(0L, int64 width, 2L, dtype = ScalarType.Float32)
    // 10000^(−i/width) = exp(−ln(10000)·i/width)
    use invFreq = i.mul((float32 (-(log 10000.0) / float width)).ToScalar()).exp()
    use angles = p.mul(invFreq.unsqueeze 0L)
    use sin = angles.sin()
    use cos = angles.cos()
    torch.cat([| sin; cos |], 1L)

/// The attention layer: input [..; I] → [..; H·D] (or the projection's width).
let layer (gen: Generator) (name: string) (o: Options) (inWidth: int) : Layer =
    let ps = new ParamStore(name)
    let h, d = int64 o.Heads, int64 o.HeadWidth
    let hd = h * d
    let wqkv = ps.Parameter("w_qkv", Init.xavierNormal gen inWidth (3 * o.Heads * o.HeadWidth))
    let relative =
        match o.Positions with
        | Relative ->
            let wr = ps.Parameter("w_r", Init.xavierNormal gen inWidth (o.Heads * o.HeadWidth))
            let u = ps.Parameter("u", Init.zeros (o.Heads * o.HeadWidth))
            let v = ps.Parameter("v", Init.zeros (o.Heads * o.HeadWidth))
            Some(wr, u, v)
        | NoPositions -> None
    let projection =
        o.Projection |> Option.map (fun w -> w, ps.Parameter("w_out", Init.xavierNormal gen (o.Heads * o.HeadWidth) w))
    let outWidth = o.Projection |> Option.defaultValue (o.Heads * o.HeadWidth)
    let rowLen = rowLength o.ContextSize
    let scale = 1.0 / sqrt (float o.HeadWidth)
    // Distance embeddings 0 … T−1 in the stream's width, as Transformer-XL.
    let distances = sinusoids [| 0L .. int64 o.ContextSize - 1L |] inWidth

    /// [B; T; H·D] → [B; H; T; D]
    let heads (x: Tensor) =
        let b, t = x.shape[0], x.shape[1]
        x.view(b, t, h, d).transpose(1L, 2L)

    // Masks and distance indices over the whole context, built once: step mode reads one row.
    let ctx = o.ContextSize
    let maskAll =
        torch.tensor([| for t in 0 .. ctx - 1 do for s in 0 .. ctx - 1 -> allowed o.Pattern rowLen t s |]).view(int64 ctx, int64 ctx)
    let anyAll =
        torch.tensor([| for t in 0 .. ctx - 1 -> if Seq.exists (allowed o.Pattern rowLen t) (seq { 0 .. ctx - 1 }) then 1.0f else 0.0f |])
    let distanceAll =
        torch.tensor([| for t in 0 .. ctx - 1 do for s in 0 .. ctx - 1 -> int64 (max 0 (t - s)) |], dtype = ScalarType.Int64).view(int64 ctx, int64 ctx)

    /// Attention of the queries at positions first … first+T−1 over the keys at 0 … S−1.
    /// q: [B; T; H·D], k, v: [B; S; H·D] → [B; T; H·D] (or the projection's width)
    let attend (first: int) (q: Tensor) (k: Tensor) (v: Tensor) =
        let count, keys = q.shape[1], k.shape[1]
        if int64 first + count > int64 ctx then
            invalidArg "q" $"attention context is {ctx} steps; position {int64 first + count - 1L} is beyond it"
        let rows (m: Tensor) = m.narrow(0L, int64 first, count).narrow(1L, 0L, keys)
        let qh, kh, vh = heads q, heads k, heads v
        let scores =
            match relative with
            | None -> qh.matmul(kh.transpose(2L, 3L))
            | Some(wr, u, vb) ->
                let ac = (qh.add(u.view(1L, h, 1L, d))).matmul(kh.transpose(2L, 3L))
                // (q + v)·R(t − s), R(δ) = W_r·sinusoid(δ): scores for every distance, then gathered.
                let r = distances.narrow(0L, 0L, int64 first + count).matmul(wr) // [Δ; H·D]
                let rh = r.view(-1L, h, d).permute(1L, 2L, 0L) // [H; D; Δ]
                let bd = qh.add(vb.view(1L, h, 1L, d)).matmul(rh) // [B; H; T; Δ]
                let index = (rows distanceAll).view(1L, 1L, count, keys).expand(bd.shape[0], h, -1L, -1L)
                ac.add(bd.gather(3L, index))
        let mask = (rows maskAll).view(1L, 1L, count, keys)
        let weights = scores.mul(scale.ToScalar()).masked_fill(mask.logical_not(), (-1e10).ToScalar()).softmax(-1L)
        let out = weights.matmul(vh) // [B; H; T; D]
        // A query with no key to attend to (row 0 of previous-row) outputs zeros, as attention over
        // all-zero keys and values would.
        let any = anyAll.narrow(0L, int64 first, count).view(1L, 1L, count, 1L)
        let merged = out.mul(any).transpose(1L, 2L).reshape(out.shape[0], count, hd)
        match projection with
        | Some(_, w) -> merged.matmul w
        | None -> merged

    let split (qkv: Tensor) = qkv.narrow(-1L, 0L, hd), qkv.narrow(-1L, hd, hd), qkv.narrow(-1L, 2L * hd, hd)

    let step (x: Tensor) (state: State) =
        // x: [B; I]; state: keys and values so far, [B; p; H·D] each.
        let kCache, vCache = state[0], state[1]
        let p = int kCache.shape[1]
        let q, k, v = split (x.matmul(wqkv).unsqueeze 1L)
        let keys = torch.cat([| kCache; k |], 1L)
        let values = torch.cat([| vCache; v |], 1L)
        let y = attend p q keys values
        y.squeeze 1L, [ keys; values ]

    let sequence (x: Tensor) =
        // x: [B; T; I]
        let q, k, v = split (x.matmul wqkv)
        attend 0 q k v

    let initial b =
        [ torch.zeros([| int64 b; 0L; hd |]); torch.zeros([| int64 b; 0L; hd |]) ]

    Layer.stateful ps inWidth outWidth 2 initial step sequence
