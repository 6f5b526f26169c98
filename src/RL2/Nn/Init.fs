/// Weight initialisers drawing from an explicit generator, so a network is reproducible from its seed.
module RL2.Nn.Init

open TorchSharp
open RL2

/// Xavier-normal weight stored input-major [fanIn; fanOut] (so x.matmul(w) needs no transpose).
let xavierNormal (gen: Generator) (fanIn: int) (fanOut: int) =
    let std = sqrt (2.0 / float (fanIn + fanOut))
    torch.empty([| int64 fanIn; int64 fanOut |]).normal_(0.0, std, gen)

/// Orthogonal [rows; cols]: Q of a Gaussian matrix's QR, signs fixed by diag(R) (as PyTorch).
let orthogonal (gen: Generator) (rows: int) (cols: int) =
    let tall = max rows cols, min rows cols
    use a = torch.randn([| int64 (fst tall); int64 (snd tall) |], generator = gen)
    let struct (q, r) = torch.linalg.qr a
    use q = q
    use r = r
    use d = r.diagonal().sign()
    use q = q.mul d
    // LAPACK's Q is column-major; parameters must be contiguous to be saved.
    if rows >= cols then q.contiguous () else q.t().contiguous ()

/// Uniform(-1/√fanIn, 1/√fanIn): PyTorch's default Linear/Conv1d init (Kaiming-uniform, a = √5).
let kaimingUniform (gen: Generator) (fanIn: int) (shape: int64[]) =
    let bound = 1.0 / sqrt (float fanIn)
    torch.empty(shape).uniform_(-bound, bound, gen)

let zeros (n: int) = torch.zeros([| int64 n |])

let ones (n: int) = torch.ones([| int64 n |])
