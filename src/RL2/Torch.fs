/// Short names for the TorchSharp types used everywhere (opening `torch` itself would shadow
/// F#'s `int64`, `float32`… with dtype values).
[<AutoOpen>]
module RL2.TorchTypes

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType
