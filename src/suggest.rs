//! "Did you mean …?" for misspelt names: plan keys, daemon.json keys, mirrors.

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // Never suggest a name that shares (almost) nothing with what was written.
    let length = word.chars().count();
    let limit = (length / 3).max(2).min(length.saturating_sub(1));
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_names_only() {
        let keys = ["remove", "purge_data"];
        assert_eq!(closest("remov", keys), Some("remove"));
        assert_eq!(closest("purge-data", keys), Some("purge_data"));
        assert_eq!(closest("something_else", keys), None);
    }
}
