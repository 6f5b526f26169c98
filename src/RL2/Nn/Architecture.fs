/// Architectures as values in a table: the CLI's choices, open to users' own entries.
namespace RL2.Nn

open TorchSharp
open RL2

/// What an architecture is built from.
type ArchitectureSpec =
    { InputWidth: int
      NumFeatures: int
      /// Timesteps per meta-episode (the attention context of SNAIL and the Transformer).
      ContextSize: int }

type Architecture =
    { Name: string
      Description: string
      /// Builds the memory core (input → features), drawing initial weights from the generator.
      Build: Generator -> ArchitectureSpec -> Layer }

module Architecture =
    let gru =
        { Name = "gru"
          Description = "layer-normalised GRU, reset-after, forget bias 1.0"
          Build = fun gen spec -> Gru.layer gen 1.0f spec.InputWidth spec.NumFeatures }

    let lstm =
        { Name = "lstm"
          Description = "layer-normalised LSTM, forget bias 1.0"
          Build = fun gen spec -> Lstm.layer gen 1.0f spec.InputWidth spec.NumFeatures }

    let snail =
        { Name = "snail"
          Description = "SNAIL: two TC blocks and causal attention (the papers used 32 features)"
          Build = fun gen spec -> Snail.layer gen spec.ContextSize spec.InputWidth spec.NumFeatures }

    let transformer (options: Transformer.Options) =
        { Name = "transformer"
          Description = $"Transformer, {options.Layers} layers, {options.Heads} heads"
          Build = fun gen spec -> Transformer.layer options gen spec.ContextSize spec.InputWidth spec.NumFeatures }

    /// The built-in architectures, with the Transformer configured by `options`.
    let standard (options: Transformer.Options) = [ gru; lstm; snail; transformer options ]

    let table = standard Transformer.reference

    let tryFind name (table: Architecture list) = table |> List.tryFind (fun a -> a.Name = name)
