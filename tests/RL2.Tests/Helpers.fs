/// Small tensor helpers shared by the test modules.
module RL2.Tests.Helpers

open Expecto
open TorchSharp
open RL2

let gen (seed: int) = new Generator(uint64 seed)

let floats (t: Tensor) : float32[] =
    use c = t.detach().contiguous().to_type ScalarType.Float32
    c.data<float32>().ToArray()

let longs (t: Tensor) : int64[] =
    use c = t.detach().contiguous().to_type ScalarType.Int64
    c.data<int64>().ToArray()

let scalar (t: Tensor) = t.detach().to_type(ScalarType.Float32).item<float32> ()

/// A float32 tensor of the given shape from row-major values.
let tensorOf (shape: int64 list) (values: float32 list) =
    (torch.tensor(List.toArray values)).reshape(List.toArray shape)

let longTensorOf (shape: int64 list) (values: int64 list) =
    (torch.tensor(List.toArray values)).reshape(List.toArray shape)

let maxAbsDiff (a: Tensor) (b: Tensor) =
    use d = a.detach().sub(b.detach())
    use m = d.abs().max()
    scalar m

/// Same shape and every element within tol.
let expectClose (tol: float32) (actual: Tensor) (expected: Tensor) (msg: string) =
    Expect.sequenceEqual actual.shape expected.shape $"{msg}: shape"
    let d = maxAbsDiff actual expected
    if not (d <= tol) then
        failtestf "%s: max |diff| = %g > %g\nactual   %A\nexpected %A" msg d tol (floats actual) (floats expected)

let expectFloat (tol: float32) (actual: float32) (expected: float32) (msg: string) =
    if not (abs (actual - expected) <= tol) then
        failtestf "%s: %g vs expected %g (tol %g)" msg actual expected tol

/// Same shape and identical elements.
let same (a: Tensor) (b: Tensor) =
    a.shape = b.shape && (use e = a.eq b in use all = e.all () in all.item<bool> ())

let expectEqualTensors (a: Tensor) (b: Tensor) (msg: string) =
    Expect.sequenceEqual a.shape b.shape $"{msg}: shape"
    Expect.equal a.dtype b.dtype $"{msg}: dtype"
    Expect.isTrue (same a b) $"{msg}: values"

let config n = { FsCheckConfig.defaultConfig with maxTest = n }

/// Parameters of a learner's two networks, policy first.
let learnerParameters (l: RL2.Train.Trainer.Learner) =
    Seq.append (l.Policy.Params.parameters ()) (l.Value.Params.parameters ()) |> Seq.toArray
