/// Means with 95% confidence intervals over meta-episodes, and paired differences.
module RL2.Eval.Stats

/// Mean of n samples and the half-width of its 95% confidence interval (normal approximation,
/// 1.96 · sample standard deviation / √n).
type Summary =
    { Mean: float
      HalfWidth: float
      StdDev: float
      Count: int }

let summarize (xs: float[]) =
    let n = xs.Length
    if n = 0 then invalidArg "xs" "no samples"
    let mean = Array.average xs
    let var = if n > 1 then (xs |> Array.sumBy (fun x -> (x - mean) * (x - mean))) / float (n - 1) else 0.0
    let sd = sqrt var
    { Mean = mean
      HalfWidth = 1.96 * sd / sqrt (float n)
      StdDev = sd
      Count = n }

/// A − B meta-episode by meta-episode (the same tasks, so task-to-task variation cancels).
let paired (a: float[]) (b: float[]) =
    if a.Length <> b.Length then invalidArg "b" $"paired samples need equal counts, got {a.Length} and {b.Length}"
    summarize (Array.map2 (-) a b)

let format (s: Summary) = $"%.2f{s.Mean} ± %.2f{s.HalfWidth}"
