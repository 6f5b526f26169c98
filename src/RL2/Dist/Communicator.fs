/// How training processes talk: the single-process default here; an MPI binding plugs in the same record.
namespace RL2.Dist

open TorchSharp
open RL2

type Communicator =
    { Rank: int
      Size: int
      /// Sums a float32 buffer over all processes, in place.
      AllreduceSum: float32[] -> unit
      /// Process 0's bytes, on every process.
      Broadcast: byte[] -> byte[] }

module Communicator =
    /// One process: reductions are identities.
    let single =
        { Rank = 0
          Size = 1
          AllreduceSum = ignore
          Broadcast = id }

    /// Averages the gradients of `parameters` over processes with one allreduce over one flat buffer.
    let averageGradients (comm: Communicator) (parameters: Modules.Parameter seq) =
        if comm.Size > 1 then
            use _ = torch.no_grad ()
            let grads = parameters |> Seq.choose (fun p -> Option.ofObj p.grad) |> Seq.toArray
            use flat = torch.cat(grads |> Array.map (fun g -> g.flatten()), 0L)
            let buffer = flat.data<float32>().ToArray()
            comm.AllreduceSum buffer
            use summed = torch.tensor(buffer)
            use mean = summed.div_((float32 comm.Size).ToScalar())
            let mutable offset = 0L
            for g in grads do
                let n = g.numel ()
                use part = mean.narrow(0L, offset, n)
                g.copy_(part.view_as g) |> ignore
                offset <- offset + n

    /// The mean over processes of a few float statistics.
    let mean (comm: Communicator) (values: float32[]) =
        let buffer = Array.copy values
        comm.AllreduceSum buffer
        buffer |> Array.map (fun v -> v / float32 comm.Size)
