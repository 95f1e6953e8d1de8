import { graphql } from "react-relay";

export const meeting = graphql`
  fragment MeetingCard_meeting on Meeting @refetchable(queryName: "MeetingCardRefetchQuery") {
    title
    durationMinutes
    hosts { name }
    details {
      __typename
      ... on DailyMeetingDetails { room ongoing }
      ... on HeyPeersMeetingDetails { meetingType }
    }
  }
`;
